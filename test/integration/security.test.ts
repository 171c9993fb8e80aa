/**
 * Acceptance of the secure-by-default stack: each test shows a refusal by the real servers (or the real
 * activities), not by a mock. The Kafka cases use the product's own topic and group names, whose ACLs the
 * stack creates (test topics are reachable by the admin user only).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { config, kafkaFor, REPO_ROOT } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { ensureTopic } from '../../lib/kafka/topics';
import { createActivities } from '../../activities';
import { openTestStack, randomSuffix, type TestStack } from '../support/env';

const MARKER = 'root:x:0:0:trackflow-secret-marker';
let stack: TestStack;
let dir: string;
/** A database the admin created and never granted the app user on (as any other application's would be). */
const otherDatabase = `trackflow_t_other_${randomSuffix()}`;

before(async () => {
  stack = await openTestStack('security');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-security-'));
  const admin = createMysqlAdminPool(stack.config.mysql);
  try {
    await admin.query(`CREATE DATABASE \`${otherDatabase}\``);
    await admin.query(`CREATE TABLE \`${otherDatabase}\`.secrets (k INT PRIMARY KEY)`);
  } finally {
    await admin.end();
  }
});
after(async () => {
  const admin = createMysqlAdminPool(stack.config.mysql);
  await admin.query(`DROP DATABASE IF EXISTS \`${otherDatabase}\``).finally(() => admin.end());
  await stack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('Cassandra: the app role can read and write its keyspace but cannot create or drop a keyspace', async () => {
  const app = stack.deps.cassandra;
  const ks = stack.config.cassandra.keyspace;
  const tables = await app.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [ks]);
  assert.ok(tables.rowLength > 0);
  await app.execute(`SELECT * FROM ${ks}.schema_migrations LIMIT 1`);
  await assert.rejects(
    app.execute(`CREATE KEYSPACE trackflow_t_forbidden WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`),
    /Unauthorized|has no CREATE permission/i,
  );
  await assert.rejects(app.execute(`DROP KEYSPACE ${ks}`), /Unauthorized|has no DROP permission/i);
  await assert.rejects(app.execute(`DROP TABLE ${ks}.schema_migrations`), /Unauthorized|has no DROP permission/i);
  // The default superuser of the distribution is disabled.
  const cfg = stack.config.cassandra;
  const defaultLogin = createCassandraClient({ ...cfg, username: 'cassandra', password: 'cassandra' });
  await assert.rejects(defaultLogin.connect(), /authentication|not permitted to log in|Provided username/i);
  await defaultLogin.shutdown();
});

test('Cassandra: a client without credentials is refused', async () => {
  const anon = createCassandraClient({ ...stack.config.cassandra, username: undefined, password: undefined });
  await assert.rejects(anon.connect(), /requires authentication|Authentication provider not set|No host could be resolved|All host\(s\) tried/i);
  await anon.shutdown();
});

test('Kafka: an unauthenticated client cannot connect', async () => {
  const cfg = config().kafka;
  const anon = new Kafka({
    clientId: 'trackflow-anon',
    brokers: cfg.brokers,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const admin = anon.admin({ retry: { retries: 0 } });
  await assert.rejects(
    (async () => {
      await admin.connect();
      await admin.listTopics();
    })(),
    /Closed connection|Connection error|disconnected|timeout|SASL/i,
  );
  await admin.disconnect().catch(() => undefined);
});

test("Kafka: the stream's user cannot write the events topic, though it may describe it", async () => {
  const base = config().kafka;
  assert.ok(base.users.stream && base.users.publisher, 'the stack configures per-component Kafka users');
  await ensureTopic(createKafka(base, 'sec-admin'), base.topic, base.partitions);
  const stream = createKafka(kafkaFor(base, 'stream'), 'sec-stream', { retry: { retries: 0 }, logLevel: logLevel.NOTHING });
  const producer = stream.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await assert.rejects(
      producer.send({ topic: base.topic, messages: [{ key: 'x', value: 'forbidden' }] }),
      (err: Error & { type?: string }) => {
        assert.match(`${err.name} ${err.message} ${err.type ?? ''}`, /TOPIC_AUTHORIZATION_FAILED|not authorized/i);
        return true;
      },
    );
  } finally {
    await producer.disconnect();
  }
  // The same user may describe the topic (its ACLs allow that): the refusal above is the write, not the login.
  const admin = stream.admin({ retry: { retries: 0 } });
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [base.topic] });
    assert.equal(meta.topics[0]?.name, base.topic);
  } finally {
    await admin.disconnect();
  }
});

test("MySQL: the app user cannot touch another test's database, the system schema, or create a database", async () => {
  const app = createMysqlPool(stack.config.mysql, { connectionLimit: 1 });
  try {
    await app.query('SELECT COUNT(*) AS n FROM schema_migrations');
    await assert.rejects(app.query(`SELECT * FROM \`${otherDatabase}\`.secrets`), /denied/i);
    await assert.rejects(app.query(`INSERT INTO \`${otherDatabase}\`.secrets VALUES (1)`), /denied/i);
    await assert.rejects(app.query(`DROP DATABASE \`${otherDatabase}\``), /denied/i);
    await assert.rejects(app.query('SELECT user FROM mysql.user'), /denied/i);
    await assert.rejects(app.query('CREATE DATABASE trackflow_t_forbidden'), /denied/i);
    await assert.rejects(app.query('CREATE TABLE t_forbidden (k INT)'), /denied/i);
  } finally {
    await app.end();
  }
});

test('paths: a symlink in the landing area, or a path outside it, is refused and its content appears nowhere', async () => {
  const landing = path.join(dir, 'landing');
  fs.mkdirSync(landing);
  const secret = path.join(dir, 'passwd');
  fs.writeFileSync(secret, `${MARKER}\n`);
  fs.symlinkSync(secret, path.join(landing, 'tracking.csv'));
  fs.symlinkSync(secret, path.join(landing, 'job.csv'));
  const confined = { ...stack.config, landingDir: landing, inputDirs: [landing] };
  const acts = createActivities({ ...stack.deps, config: confined });
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['ingest symlink', () => acts.ingestFile({ path: path.join(landing, 'tracking.csv') }), /SymlinkRefused|symbolic link/],
    ['ingest outside', () => acts.ingestFile({ path: secret }), /outside the input directories/],
    ['ingest dot-dot', () => acts.ingestFile({ path: path.join(landing, '..', 'passwd') }), /outside the input directories/],
    ['jobs symlink', () => acts.loadJobs({ path: path.join(landing, 'job.csv') }), /symbolic link/],
    ['jobs outside', () => acts.loadJobs({ path: '/etc/passwd' }), /outside the input directories/],
    ['discover outside', () => acts.discoverFiles({ landingDir: dir }), /outside the input directories/],
  ];
  for (const [name, run, rule] of cases) {
    await assert.rejects(run(), (err: Error & { nonRetryable?: boolean }) => {
      assert.match(err.message, rule, name);
      assert.equal(err.nonRetryable, true, name);
      assert.ok(!JSON.stringify({ m: err.message, s: err.stack }).includes('trackflow-secret-marker'), `${name} leaked content`);
      return true;
    });
  }
  const lake = await stack.deps.cassandra.execute(`SELECT COUNT(*) AS n FROM ${stack.config.cassandra.keyspace}.events_by_hour`);
  assert.equal(Number(lake.first()?.['n']), 0, 'nothing from a refused file reached the lake');
});

test('a change-me password is refused before anything connects', () => {
  const env = { ...process.env, TRACKFLOW_MYSQL_PASSWORD: 'change-me-app' };
  const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'trackflow'), 'export', 'events', '--csv'], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.notEqual(res.status, 0);
  assert.match(res.stderr, /TRACKFLOW_MYSQL_PASSWORD is the example placeholder/);
  assert.equal(res.stdout, '');
});
