import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { readTopicLag } from '../../../lib/reconcile/lag';
import { readStoredOffsets, readStreamTotals } from '../../../lib/stream/commit';
import { drainSignal, scaleSignal, statusQuery } from '../../../workflows';
import {
  assertExact, ingestAndPublishDirect, loadJobs, openFaultStack, startStream, waitFor, writeDataset, type FaultStack,
} from '../../support/faults';
import { expectedFrom } from '../../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('scale');
});
afterEach(async () => {
  await s?.close();
});

async function lag(): Promise<number> {
  const { topic, consumerGroup } = s.config.kafka;
  return (await readTopicLag(s.deps.kafka, topic, await readStoredOffsets(s.deps.mysql, consumerGroup, topic))).lag;
}

async function batches(): Promise<number> {
  return (await readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic)).batches;
}

void test('scaling the consumers 2 -> 6 -> 1 on a running stream, data arriving between, keeps the warehouse exact', { timeout: 240_000 }, async () => {
  const a = await writeDataset(s, 8000, 31);
  const b = await writeDataset(s, 8000, 32);
  const c = await writeDataset(s, 8000, 33);
  await loadJobs(s, a.jobs);
  s.spawnWorker('pipeline');
  s.spawnWorker('stream');
  s.spawnWorker('stream');
  await Promise.all(s.workers.map((w) => w.ready));
  await ingestAndPublishDirect(s, [a.tracking]);
  const run = await startStream(s, { consumers: 2, stopWhenCaughtUp: false, leaseMs: 30_000 });
  const pending = async () => (await run.describe()).raw.pendingActivities?.length ?? 0;

  await waitFor('two consumers in flight and committing', 60_000, async () => (await pending()) === 2 && (await batches()) > 0);
  await run.signal(scaleSignal, 6);
  const publishB = ingestAndPublishDirect(s, [b.tracking]);
  await waitFor('six consumers in flight', 60_000, async () => (await pending()) === 6);
  await publishB;
  // Caught up, not "one more batch": the six may have consumed all of B before publishB returned.
  await waitFor('caught up with six consumers', 90_000, async () => (await lag()) === 0);
  assert.equal((await run.query(statusQuery)).consumers, 6);
  await run.signal(scaleSignal, 1);
  await ingestAndPublishDirect(s, [c.tracking]);
  await waitFor('one consumer in flight', 60_000, async () => (await pending()) === 1);
  await waitFor('caught up with one consumer', 90_000, async () => (await lag()) === 0);

  const status = await run.query(statusQuery);
  assert.equal(status.consumers, 1);
  assert.deepEqual(status.consumerStatus?.map((x) => [x.index, x.of]), [[0, 1]]);
  await run.signal(drainSignal);
  assert.equal((await run.result()).state, 'drained');
  await assertExact(s, 'scale 2 -> 6 -> 1 while running', expectedFrom([a.tracking, b.tracking, c.tracking], a.jobs));
});
