/**
 * The long hostile-input run of the stream stage (npm run test:faults): larger fuzz plans than the fast
 * one in test/faults/fast/stream-fuzz.test.ts, with short leases that end mid-stream and resume, and a
 * poison flood into full 5,000-message chunks.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openTestStack } from '../support/env';
import type { TestStack } from '../support/env';
import { runStreamFuzz } from '../support/streamFuzz';
import type { FuzzPlan, FuzzReport } from '../support/streamFuzz';

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close().catch(() => undefined);
});

function report(name: string, plan: FuzzPlan, r: FuzzReport, ms: number): void {
  console.log(`${name} (seed ${plan.seed}): ${r.messages} messages (${r.mutated} mutated, ${r.poison} poison, ${(r.bytes / 1e6).toFixed(1)} MB), ` +
    `produced in ${r.produceMs} ms, consumed in ${r.leases} lease(s) in ${r.consumeMs} ms, total ${ms} ms; mutations ${JSON.stringify(r.mutations)}; ` +
    `counted ${r.expected.counted}, filtered ${r.expected.filtered}, unattributed ${r.expected.unattributed}, duplicates ${r.expected.duplicates}, redelivered ${r.expected.redelivered}`);
}

async function run(name: string, plan: FuzzPlan): Promise<FuzzReport> {
  const s = await openTestStack(name);
  stacks.push(s);
  const t0 = Date.now();
  const r = await runStreamFuzz(s, plan);
  report(name, plan, r, Date.now() - t0);
  return r;
}

void test('hostile stream: 40,000 base messages over 6 partitions, 4 s leases resuming mid-stream', { timeout: 900_000 }, async () => {
  const r = await run('hostile', { seed: 1701, messages: 40_000, mutationRate: 0.25, partitions: 6, hugeBytes: 300_000, chunkSize: 300, leaseMs: 4000 });
  assert.ok(r.leases > 1, 'leases ended mid-stream and resumed');
});

void test('hostile stream: a poison flood in full chunks (90% mutated, one partition, 5,000 per transaction)', { timeout: 900_000 }, async () => {
  const r = await run('hostileflood', { seed: 4242, messages: 12_000, mutationRate: 0.9, partitions: 1, hugeBytes: 100_000, chunkSize: 5000 });
  assert.ok(r.poison > 8000);
});
