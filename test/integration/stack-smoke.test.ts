import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { types } from 'cassandra-driver';
import { NativeConnection, Worker } from '@temporalio/worker';
import { config } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { connectTemporal } from '../../lib/clients/temporal';
import { grantMysqlApp, revokeMysqlApp } from '../../lib/migrate/mysql';
import { randomSuffix } from '../support/env';

// One round trip per server of the local stack, each through the same client code the product uses.

const cfg = config();
const id = randomSuffix();

test('Cassandra: a CQL write and read back', async () => {
  // Schema changes need the migration role; the app role only reads and writes rows.
  const client = createCassandraClient(cfg.cassandra, { as: 'admin' });
  const keyspace = `trackflow_smoke_${id}`;
  try {
    await client.execute(`CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
    await client.execute(`CREATE TABLE ${keyspace}.t (k text PRIMARY KEY, at timeuuid, n double)`);
    const at = types.TimeUuid.now();
    await client.execute(`INSERT INTO ${keyspace}.t (k, at, n) VALUES (?, ?, ?)`, ['smoke', at, 2.5], { prepare: true });
    const row = (await client.execute(`SELECT at, n FROM ${keyspace}.t WHERE k = ?`, ['smoke'], { prepare: true })).first();
    assert.equal(row?.['n'], 2.5);
    assert.equal(String(row?.['at']), String(at));
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }
});

test('Kafka: produce a message and consume it back', async () => {
  const kafka = createKafka(cfg.kafka, 'smoke');
  const topic = `trackflow.smoke.${id}`;
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: `trackflow-smoke-${id}` });
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await producer.connect();
    const value = `smoke-${crypto.randomUUID()}`;
    await producer.send({ topic, messages: [{ key: 'k', value }] });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value?.toString() ?? '');
        },
      });
    });
    assert.equal(received, value);
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

test('MySQL: the app user reads and writes rows but cannot change the schema', async () => {
  const database = `trackflow_t_smoke_${id}`;
  const admin = createMysqlAdminPool(cfg.mysql);
  await admin.query(`CREATE DATABASE \`${database}\``);
  await admin.query(`CREATE TABLE \`${database}\`.t (k VARCHAR(16) PRIMARY KEY, n INT NOT NULL)`);
  await grantMysqlApp(admin, database, cfg.mysql.user);
  const app = createMysqlPool(cfg.mysql, { database });
  try {
    await app.execute('INSERT INTO t (k, n) VALUES (?, ?)', ['smoke', 42]);
    const [rows] = await app.execute('SELECT n FROM t WHERE k = ?', ['smoke']);
    assert.deepEqual(rows, [{ n: 42 }]);
    await assert.rejects(app.query('CREATE TABLE t2 (k INT)'), /denied/i);
    await assert.rejects(app.query('DROP TABLE t'), /denied/i);
  } finally {
    await app.end();
    await revokeMysqlApp(admin, database, cfg.mysql.user);
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await admin.end();
  }
});

let temporal: Awaited<ReturnType<typeof connectTemporal>>;
before(async () => {
  temporal = await connectTemporal(cfg.temporal);
});
after(async () => {
  await temporal.connection.close();
});

test('Temporal: a trivial workflow starts and completes on the dev server', async () => {
  const taskQueue = `trackflow-smoke-${id}`;
  const connection = await NativeConnection.connect({ address: cfg.temporal.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: cfg.temporal.namespace,
      taskQueue,
      workflowsPath: path.join(__dirname, 'fixtures', 'smoke-workflow.ts'),
    });
    const result = await worker.runUntil(
      temporal.client.workflow.execute('smokeWorkflow', {
        taskQueue,
        workflowId: `smoke-${id}`,
        args: [{ name: 'trackflow' }],
      }),
    );
    assert.equal(result, 'hello trackflow');
  } finally {
    await connection.close();
  }
});
