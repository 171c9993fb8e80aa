import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openTestStack } from '../../support/env';
import type { TestStack } from '../../support/env';
import { runStreamFuzz } from '../../support/streamFuzz';

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close().catch(() => undefined);
});

const SEED = Number(process.env['TRACKFLOW_FUZZ_SEED'] ?? 1313);

void test(`stream fuzz (seed ${SEED}): mutated messages are dead-lettered, the rest counted exactly, the stage goes on`, { timeout: 120_000 }, async () => {
  const s = await openTestStack('streamfuzz');
  stacks.push(s);
  const started = Date.now();
  const r = await runStreamFuzz(s, { seed: SEED, messages: 4000, mutationRate: 0.3, partitions: 3, hugeBytes: 200_000, chunkSize: 700 });
  console.log(`stream fuzz: ${r.messages} messages (${r.mutated} mutated, ${r.poison} poison, ${(r.bytes / 1e6).toFixed(1)} MB) ` +
    `produced in ${r.produceMs} ms, consumed in ${r.leases} lease(s) in ${r.consumeMs} ms, total ${Date.now() - started} ms; ` +
    `mutations ${JSON.stringify(r.mutations)}; counted ${r.expected.counted}, duplicates ${r.expected.duplicates}, redelivered ${r.expected.redelivered}`);
  assert.ok(r.poison > 500 && r.expected.counted > 1000 && r.expected.redelivered > 0 && r.expected.duplicates > 0, 'the fuzz exercised every outcome');
});
