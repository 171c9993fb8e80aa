import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { connectTemporal } from '../../lib/clients/temporal';
import { startStream, streamStartOf } from '../../client/stream';
import { isolatedConfig, randomSuffix } from '../support/env';

// No worker listens on the random task queue: the run stays pending, and only what the server recorded at
// the start (memo, id policies) is under test.
const cfg = isolatedConfig('streamstart');
let conn: Awaited<ReturnType<typeof connectTemporal>>;
let client: Client;
const workflowId = `stream-start-test-${randomSuffix()}`;

before(async () => {
  conn = await connectTemporal(cfg.temporal);
  client = conn.client;
});
after(async () => {
  await client.workflow.getHandle(workflowId).terminate('test done').catch(() => undefined);
  await conn.connection.close();
});

test('the one stream start records the topic, group and consumers in the memo, and a second start attaches', async () => {
  const start = { ...streamStartOf(cfg, { consumers: 2 }), taskQueue: `trackflow-test-${randomSuffix()}`, workflowId };
  const first = await startStream(client, start);
  assert.deepEqual({ workflowId: first.workflowId, started: first.started }, { workflowId, started: true });

  const d = await client.workflow.getHandle(workflowId).describe();
  assert.deepEqual(d.memo, { topic: cfg.kafka.topic, group: cfg.kafka.consumerGroup, consumers: 2 });
  assert.equal(d.type, 'streamToWarehouse');
  assert.equal(d.taskQueue, start.taskQueue);

  const second = await startStream(client, start);
  assert.deepEqual(second, { workflowId, started: false });
});
