import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createMysqlAdminPool } from '../../lib/clients/mysql';
import { REPO_ROOT } from '../../lib/config';
import { generateJobs, generateTracking } from '../../lib/domain/generator';
import { listLakeHours, reindexLakeHours } from '../../lib/lake/hours';
import { reconcile } from '../../lib/reconcile/gather';
import type { HourVerdict } from '../../lib/verify/judge';
import { TopicLagReader } from '../../lib/verify/lag';
import { rebuildHour } from '../../lib/verify/rebuild';
import type { VerifyDeps } from '../../lib/verify/verify';
import { verifyHour } from '../../lib/verify/verify';
import { isolatedEnv, openTestStack, randomSuffix } from '../support/env';
import type { TestStack } from '../support/env';
import { consumeUntilCaughtUp, exportLines, ingestAndPublishDirect, loadJobs } from '../support/faults';
import { expectedExport, expectedFrom } from '../support/reference';

const DAY = '2022-07-01';

function writeExport(dir: string, name: string, events: number, seed: number): string {
  const file = path.join(dir, name);
  const gen = generateTracking({ events, seed, days: 1, startMs: Date.parse(`${DAY}T00:00:00Z`), badRate: 0.005 });
  fs.writeFileSync(file, [...gen.lines].map((l) => l.toString()).join('\n') + '\n');
  return file;
}

function verifyDeps(s: TestStack): VerifyDeps {
  const c = s.config;
  return { cassandra: s.deps.cassandra, kafka: s.deps.kafka, mysql: s.deps.mysql, keyspace: c.cassandra.keyspace, topic: c.kafka.topic, consumerGroup: c.kafka.consumerGroup };
}

async function verifyAll(s: TestStack): Promise<HourVerdict[]> {
  const lag = new TopicLagReader(s.deps.kafka, s.config.kafka.topic);
  try {
    const out: HourVerdict[] = [];
    for (const h of await listLakeHours(s.deps.cassandra, s.config.cassandra.keyspace)) out.push(await verifyHour(verifyDeps(s), lag, h));
    return out;
  } finally {
    await lag.close();
  }
}

async function rebuild(s: TestStack, hours: string[]) {
  const lag = new TopicLagReader(s.deps.kafka, s.config.kafka.topic);
  try {
    const out = [];
    for (const h of hours) out.push(await rebuildHour(verifyDeps(s), lag, h));
    return out;
  } finally {
    await lag.close();
  }
}

async function assertReconciled(s: TestStack): Promise<void> {
  const r = await reconcile({ cassandra: s.deps.cassandra, kafka: s.deps.kafka, mysql: s.deps.mysql, config: s.config });
  assert.deepEqual(r.checks.filter((c) => c.status !== 'ok'), [], JSON.stringify(r.checks));
}

const statuses = (vs: HourVerdict[]) => [...new Set(vs.map((v) => v.status))];

void describe('verify and rebuild against the real stack', { timeout: 300_000 }, () => {
  let s: TestStack;
  let admin: Pool;
  let dir: string;
  let files: string[];
  let jobs: string;
  before(async () => {
    s = await openTestStack('verify');
    admin = createMysqlAdminPool(s.config.mysql, { database: s.config.mysql.database });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-verify-'));
    files = [writeExport(dir, 'a.csv', 4000, 11)];
    jobs = path.join(dir, 'job.csv');
    fs.writeFileSync(jobs, [...generateJobs(11)].join('\n') + '\n');
    await loadJobs(s, jobs);
    await ingestAndPublishDirect(s, files);
    await consumeUntilCaughtUp(s);
  });
  after(async () => {
    await admin?.end();
    await s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  void test('a stream-built warehouse verifies hour by hour, and equals the reference', async () => {
    assert.deepEqual(await exportLines(s), expectedExport(expectedFrom(files, jobs)));
    const vs = await verifyAll(s);
    assert.equal(vs.length, 24);
    assert.deepEqual(statuses(vs), ['verified']);
    const exp = expectedFrom(files, jobs);
    assert.equal(vs.reduce((n, v) => n + v.countable, 0), exp.counted);
    assert.equal(vs.reduce((n, v) => n + v.deadLettered, 0), exp.poison);
  });

  void test('the hour index lists every hour that holds an event, and --reindex rebuilds it from the lake', async () => {
    const ks = s.config.cassandra.keyspace;
    const hours = await listLakeHours(s.deps.cassandra, ks);
    assert.deepEqual(hours, Array.from({ length: 24 }, (_, h) => `${DAY}T${String(h).padStart(2, '0')}`));
    await s.deps.cassandra.execute(`TRUNCATE ${ks}.lake_hours`);
    assert.deepEqual(await listLakeHours(s.deps.cassandra, ks), []);
    assert.equal(await reindexLakeHours(s.deps.cassandra, ks), 24);
    assert.deepEqual(await listLakeHours(s.deps.cassandra, ks), hours);
  });

  void test('a row changed by hand as admin is reported with both values and repaired by rebuild', async () => {
    const [row] = (await admin.query<RowDataPacket[]>(
      "SELECT job_id, DATE_FORMAT(dates, '%Y-%m-%d') d, hours, publisher_id, campaign_id, group_id, clicks FROM events WHERE clicks > 0 ORDER BY job_id LIMIT 1",
    ))[0];
    assert.ok(row);
    const key = [row['job_id'], row['d'], row['hours'], row['publisher_id'], row['campaign_id'], row['group_id']];
    await admin.query(
      'UPDATE events SET clicks = clicks + 5 WHERE job_id = ? AND dates = ? AND hours = ? AND publisher_id = ? AND campaign_id = ? AND group_id = ?',
      key,
    );
    const hour = `${row['d']}T${String(row['hours']).padStart(2, '0')}`;
    const vs = await verifyAll(s);
    const bad = vs.filter((v) => v.status !== 'verified');
    assert.deepEqual(bad.map((v) => [v.hour, v.status, v.differenceCount]), [[hour, 'differs', 1]]);
    assert.deepEqual(bad[0]!.differences, [
      { kind: 'differs', key: key.join('|'), columns: [{ column: 'clicks', warehouse: Number(row['clicks']) + 5, lake: Number(row['clicks']) }] },
    ]);

    const [r] = await rebuild(s, [hour]);
    assert.equal(r!.changed, true);
    assert.equal(r!.differenceCount, 1);
    assert.equal(r!.ledgerAdded, 0);
    assert.deepEqual(statuses(await verifyAll(s)), ['verified']);
    assert.deepEqual(await exportLines(s), expectedExport(expectedFrom(files, jobs)));
    await assertReconciled(s);
  });

  void test('rows deleted by hand are restored and a row inserted by hand is removed', async () => {
    const hours = (await listLakeHours(s.deps.cassandra, s.config.cassandra.keyspace)).slice(3, 5);
    const [h1, h2] = hours as [string, string];
    await admin.query('DELETE FROM events WHERE dates = ? AND hours = ? ORDER BY job_id LIMIT 3', [h1.slice(0, 10), Number(h1.slice(11))]);
    await admin.query(
      "INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, bid_set, clicks, spend_hour, conversion, qualified_application, disqualified_application, company_id, sources, bid_sum, updated_at) VALUES (999999, ?, ?, 0, 0, 0, 1.00, 1, 1, 0, 0, 0, NULL, 'Cassandra', 1, UTC_TIMESTAMP(3))",
      [h2.slice(0, 10), Number(h2.slice(11))],
    );
    const bad = (await verifyAll(s)).filter((v) => v.status !== 'verified');
    assert.deepEqual(bad.map((v) => [v.hour, v.status, v.differences.map((d) => d.kind)]), [
      [h1, 'differs', ['missing', 'missing', 'missing']],
      [h2, 'differs', ['extra']],
    ]);
    const extra = bad[1]!.differences[0]!;
    assert.equal(extra.kind === 'extra' && extra.warehouse.job_id, 999999);

    const results = await rebuild(s, hours);
    assert.deepEqual(results.map((r) => [r.changed, r.rowsAfter - r.rowsBefore]), [[true, 3], [true, -1]]);
    assert.deepEqual(statuses(await verifyAll(s)), ['verified']);
    assert.deepEqual(await exportLines(s), expectedExport(expectedFrom(files, jobs)));
    await assertReconciled(s);
    // A second rebuild of exact hours writes nothing.
    assert.deepEqual((await rebuild(s, hours)).map((r) => r.changed), [false, false]);
  });

  void test('verify while the consumer lags reports not settled, never a difference', async () => {
    const late = writeExport(dir, 'late.csv', 3000, 12);
    // Published, not consumed: every hour of the day gets events in flight.
    await ingestAndPublishDirect(s, [late]);
    const vs = await verifyAll(s);
    assert.deepEqual(statuses(vs), ['not-settled']);
    assert.ok(vs.every((v) => v.inFlight.notConsumed > 0 && v.inFlight.notPublished === 0 && v.differenceCount === 0));
    // A rebuild in that state leaves the in-flight events to the stream, which counts each of them once.
    const rebuilt = await rebuild(s, vs.slice(0, 6).map((v) => v.hour));
    assert.ok(rebuilt.every((r) => r.inFlight > 0 && r.ledgerAdded === 0));
    await consumeUntilCaughtUp(s);
    files.push(late);
    assert.deepEqual(statuses(await verifyAll(s)), ['verified']);
    assert.deepEqual(await exportLines(s), expectedExport(expectedFrom(files, jobs)));
    await assertReconciled(s);
  });

  void test('trackflow verify and rebuild through Temporal: exit 1 with both values, then repaired', async () => {
    const cfg = s.config;
    const taskQueue = `trackflow-verify-pipeline-${randomSuffix()}`;
    const [row] = (await admin.query<RowDataPacket[]>(
      "SELECT job_id, DATE_FORMAT(dates, '%Y-%m-%d') d, hours, publisher_id, campaign_id, group_id, conversion FROM events ORDER BY job_id DESC LIMIT 1",
    ))[0];
    assert.ok(row);
    await admin.query('UPDATE events SET conversion = conversion + 2 WHERE job_id = ? AND dates = ? AND hours = ? AND publisher_id = ? AND campaign_id = ? AND group_id = ?', [
      row['job_id'], row['d'], row['hours'], row['publisher_id'], row['campaign_id'], row['group_id'],
    ]);
    const hour = `${row['d']}T${String(row['hours']).padStart(2, '0')}`;
    const connection = await NativeConnection.connect({ address: cfg.temporal.address });
    const { consumeLease: _stream, ...activities } = createActivities(s.deps);
    const worker = await Worker.create({ connection, namespace: cfg.temporal.namespace, taskQueue, workflowsPath: require.resolve('../../workflows'), activities });
    const env = { ...isolatedEnv(cfg), TRACKFLOW_TASK_QUEUE_PIPELINE: taskQueue };
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'cli.ts'), ...args], { env, cwd: REPO_ROOT });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    try {
      await worker.runUntil(async () => {
        const v = await cli(['verify', '--from', `${DAY}T00:00Z`, '--to', `${DAY}T23:59:59Z`, '--chunk-hours', '5']);
        assert.equal(v.code, 1, v.stderr + v.stdout);
        assert.match(v.stdout, new RegExp(`${hour}  differs \\(1 rows\\)`));
        assert.match(v.stdout, new RegExp(`conversion warehouse=${Number(row['conversion']) + 2} lake=${Number(row['conversion'])}`));
        assert.match(v.stdout, /24 hours \(2022-07-01T00 to 2022-07-01T23\): 23 verified, 1 differ/);

        const dry = await cli(['rebuild', '--from', hour, '--to', hour, '--dry-run', '--json']);
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal((JSON.parse(dry.stdout) as { changedHours: number }).changedHours, 1);
        assert.deepEqual((await verifyAll(s)).filter((x) => x.status !== 'verified').map((x) => x.hour), [hour], 'the dry run changed nothing');

        const rb = await cli(['rebuild', '--all', '--json']);
        assert.equal(rb.code, 0, rb.stderr);
        const rr = JSON.parse(rb.stdout) as { hours: number; changedHours: number; changed: Array<{ hour: string }> };
        assert.deepEqual([rr.hours, rr.changedHours, rr.changed.map((c) => c.hour)], [24, 1, [hour]]);
        assert.deepEqual(statuses(await verifyAll(s)), ['verified']);
      });
    } finally {
      await connection.close();
    }
    assert.deepEqual(await exportLines(s), expectedExport(expectedFrom(files, jobs)));
  });
});
