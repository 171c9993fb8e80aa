import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { readStreamTotals } from '../../../lib/stream/commit';
import {
  assertExact, ingestAndPublishDirect, loadJobs, openFaultStack, startStream, tail, writeDataset, type FaultStack,
} from '../../support/faults';
import { expectedFrom } from '../../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('streamkill');
});
afterEach(async () => {
  await s?.close();
});

void test('1. kill -9 of the stream worker before and right after a MySQL commit: retried after the heartbeat timeout, exact', async () => {
  const { tracking, jobs } = await writeDataset(s, 12_000, 11);
  await loadJobs(s, jobs);
  await ingestAndPublishDirect(s, [tracking]);
  const { topic, consumerGroup: group } = s.config.kafka;

  const pipeline = s.spawnWorker('pipeline');
  const first = s.spawnWorker('stream', {}, { stage: 'stream', point: 'before-commit', nth: 2 });
  await Promise.all([pipeline.ready, first.ready]);
  const run = await startStream(s, { leaseMs: 60_000 });
  assert.equal((await first.exited).signal, 'SIGKILL', tail(first.logFile));
  // Partitions commit concurrently, so other batches may land around the killed one; the killed one does not.
  const afterFirst = (await readStreamTotals(s.deps.mysql, group, topic)).batches;
  assert.ok(afterFirst >= 1);

  const second = s.spawnWorker('stream', {}, { stage: 'stream', point: 'after-commit', nth: 2 });
  assert.equal((await second.exited).signal, 'SIGKILL', tail(second.logFile));
  assert.ok((await readStreamTotals(s.deps.mysql, group, topic)).batches >= afterFirst + 2);

  s.spawnWorker('stream');
  const result = await run.result();
  assert.equal(result.state, 'caught-up');
  await assertExact(s, '1 stream worker kill -9 before/after commit', expectedFrom([tracking], jobs));
});
