import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { ingestFileCore } from '../../../lib/ingest/ingest';
import { publishPendingCore, publishShareOf } from '../../../lib/publish/publisher';
import {
  assertExact, consumeUntilCaughtUp, loadJobs, openFaultStack, writeDataset, type FaultStack,
} from '../../support/faults';
import { expectedFrom } from '../../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('pubshares');
});
afterEach(async () => {
  await s?.close();
});

void test('P = 3 publishers at once over their shares, plus a second attempt of one share and an unshared one overlapping: exact', { timeout: 180_000 }, async () => {
  const sets = [];
  for (let i = 0; i < 5; i++) sets.push(await writeDataset(s, 4000, 181 + i));
  await loadJobs(s, sets[0]!.jobs);
  const cfg = s.config;
  const batches: string[] = [];
  for (const set of sets) batches.push((await ingestFileCore({ cassandra: s.deps.cassandra, keyspace: cfg.cassandra.keyspace }, { path: set.tracking })).ingestBatch);
  const shares = new Set(batches.map((b) => publishShareOf(b, 3)));
  assert.ok(shares.size >= 2, `the five batches fall in more than one of three shares: ${[...shares]}`);

  const deps = { cassandra: s.deps.cassandra, kafka: s.deps.kafka, keyspace: cfg.cassandra.keyspace, topic: cfg.kafka.topic, partitions: cfg.kafka.partitions };
  const publishAll = async (share?: { index: number; count: number }) => {
    const seen: string[] = [];
    for (;;) {
      const r = await publishPendingCore(deps, { share, pageSize: 500, maxEvents: 1500 });
      seen.push(...r.ingestBatches);
      if (!r.more) return seen;
    }
  };
  // Three shares at once; share 0 twice (a zombie and its retry); one unshared publisher (a run with P = 1)
  // over every batch at the same time: every batch is sent by at least two live publishers.
  const runs = await Promise.all([publishAll({ index: 0, count: 3 }), publishAll({ index: 1, count: 3 }), publishAll({ index: 2, count: 3 }), publishAll({ index: 0, count: 3 }), publishAll()]);
  for (const [i, seen] of runs.slice(0, 3).entries()) {
    for (const b of seen) assert.equal(publishShareOf(b, 3), i, `share ${i} published only its own batches`);
  }
  assert.deepEqual([...new Set(runs.flat())].sort(), [...batches].sort());

  await consumeUntilCaughtUp(s);
  const r = await assertExact(s, 'publish: P = 3 shares with overlapping attempts', expectedFrom(sets.map((x) => x.tracking), sets[0]!.jobs));
  assert.ok(r.totals.redelivered > 0, `overlapping publishers sent copies, dropped by the watermark: ${JSON.stringify(r.totals)}`);
});
