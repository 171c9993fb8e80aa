import { afterEach, beforeEach, test } from 'node:test';
import { openFaultStack, type FaultStack } from '../../support/faults';
import { fuzzRound } from '../../support/fuzz';

/** The short run; test/faults/hostile-ingest.test.ts runs the same with more lines and seeds. */
const LINES = Number(process.env['TRACKFLOW_FUZZ_LINES'] ?? 5000);
const SEED = Number(process.env['TRACKFLOW_FUZZ_SEED'] ?? 1301);

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('fuzz');
});
afterEach(async () => {
  await s?.close();
});

void test('fuzz (short): mutated real export lines through the real stack', async () => {
  const started = Date.now();
  const stats = await fuzzRound(s, LINES, SEED, 0.08);
  process.stdout.write(`# fuzz: ${JSON.stringify({ seed: SEED, ...stats, ms: Date.now() - started })}\n`);
});
