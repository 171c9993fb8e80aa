import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, test } from 'node:test';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { REPO_ROOT } from '../../lib/config';
import { encodeMessage, messageKey } from '../../lib/domain/message';
import type { TrackingMessageV1 } from '../../lib/domain/message';
import { makeTimeUuid } from '../../lib/domain/timeuuid';
import { migrateMysql, revokeMysqlApp } from '../../lib/migrate/mysql';
import { readStreamTotals } from '../../lib/stream/commit';
import { isolatedConfig, isolatedEnv } from '../support/env';
import type { FaultSpec } from '../support/faultHooks';

const cfg = isolatedConfig('streamfault');
const admin = createMysqlAdminPool(cfg.mysql);
const mysql = createMysqlPool(cfg.mysql);
const kafka = createKafka(cfg.kafka, 'test');

// A lease in a child process, so the fault hook's SIGKILL takes down only the child. The fault spec
// (test/support/faultHooks.ts) is the child's one argument.
const CHILD = `
const { runConsumeLease } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib/stream/consumer'))});
const { config } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib/config'))});
const { createKafka } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib/clients/kafka'))});
const { createMysqlPool } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib/clients/mysql'))});
const { Metrics } = require(${JSON.stringify(path.join(REPO_ROOT, 'lib/metrics'))});
const { hookFor } = require(${JSON.stringify(path.join(REPO_ROOT, 'test/support/faultHooks'))});
const spec = process.argv[1] ? JSON.parse(process.argv[1]) : undefined;
const hook = spec ? hookFor(spec) : undefined;
const c = config();
const mysql = createMysqlPool(c.mysql);
runConsumeLease({ kafka: createKafka(c.kafka, 'child'), mysql, config: c, metrics: new Metrics() },
  { leaseMs: 60000, stopWhenCaughtUp: true, chunkSize: 10, fault: hook && ((at) => hook(at, 1)) })
  .then((s) => { console.log(JSON.stringify(s.counts)); return mysql.end(); })
  .catch((e) => { console.error(e); process.exit(1); });
`;

function runChild(fault?: FaultSpec) {
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD, ...(fault ? [JSON.stringify(fault)] : [])], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    env: isolatedEnv(cfg),
  });
}

after(async () => {
  await mysql.end();
  await revokeMysqlApp(admin, cfg.mysql.database, cfg.mysql.user).catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
  await admin.end();
  const a = kafka.admin();
  await a.connect();
  await a.deleteTopics({ topics: [cfg.kafka.topic, cfg.kafka.deadLetterTopic] }).catch(() => undefined);
  await a.disconnect();
});

void test('SIGKILL before and after a batch commit: the next lease finishes with exact totals', { timeout: 240_000 }, async () => {
  await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
  const a = kafka.admin();
  await a.connect();
  await a.createTopics({ topics: [{ topic: cfg.kafka.topic, numPartitions: 6 }], waitForLeaders: true });
  await a.disconnect();
  const messages: TrackingMessageV1[] = [];
  for (let i = 0; i < 120; i++) {
    messages.push({
      v: 1, event_id: makeTimeUuid(Date.UTC(2022, 6, 8, 9, i % 60), i, i, '0a0b0c0d0e0f'), ts: '',
      job_id: 201 + (i % 3), custom_track: 'click', bid: 0.5, campaign_id: null, group_id: null, publisher_id: null,
    });
  }
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic: cfg.kafka.topic, messages: messages.map((m) => ({ key: messageKey(m), value: encodeMessage(m) })) });
  await p.disconnect();

  const killedBefore = runChild({ stage: 'stream', point: 'before-commit', nth: 2 });
  assert.equal(killedBefore.signal, 'SIGKILL', killedBefore.stderr);
  assert.equal((await readStreamTotals(mysql, cfg.kafka.consumerGroup, cfg.kafka.topic)).batches, 1);

  const killedAfter = runChild({ stage: 'stream', point: 'after-commit', nth: 3 });
  assert.equal(killedAfter.signal, 'SIGKILL', killedAfter.stderr);
  // The kill follows this process's third commit; a batch of another partition, consumed concurrently,
  // may commit in the same instant, so at least 1 + 3 batches are committed, never fewer.
  assert.ok((await readStreamTotals(mysql, cfg.kafka.consumerGroup, cfg.kafka.topic)).batches >= 4);

  const finish = runChild();
  assert.equal(finish.status, 0, finish.stderr);
  const [rows] = await mysql.query('SELECT job_id, clicks, spend_hour, bid_set FROM events ORDER BY job_id');
  assert.deepEqual(rows, [
    { job_id: 201, clicks: 40, spend_hour: 20, bid_set: 0.5 },
    { job_id: 202, clicks: 40, spend_hour: 20, bid_set: 0.5 },
    { job_id: 203, clicks: 40, spend_hour: 20, bid_set: 0.5 },
  ]);
  const t = await readStreamTotals(mysql, cfg.kafka.consumerGroup, cfg.kafka.topic);
  assert.deepEqual([t.consumed, t.counted, t.duplicates], [120, 120, 0]);
});
