import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { generateJobs, generateTracking } from '../../lib/domain/generator';
import { assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, openFaultStack, type FaultStack } from '../support/faults';
import { expectedFrom } from '../support/reference';
import { fuzzRound } from '../support/fuzz';
import { MUTATIONS, latin1, splitLine } from '../support/mutate';

/** The long run: more lines, more seeds, a higher mutation rate (docs/faults.md). */
const LINES = Number(process.env['TRACKFLOW_FUZZ_LINES'] ?? 30_000);
const SEEDS = (process.env['TRACKFLOW_FUZZ_SEEDS'] ?? '7,8,9').split(',').map(Number);

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('hostile');
});
afterEach(async () => {
  await s?.close();
});

for (const seed of SEEDS) {
  void test(`fuzz (long) seed ${seed}: mutated real export lines through the real stack`, async () => {
    const started = Date.now();
    const stats = await fuzzRound(s, LINES, seed, 0.15);
    process.stdout.write(`# fuzz: ${JSON.stringify({ seed, ...stats, ms: Date.now() - started })}\n`);
  });
}

void test('hostile corpus: every kind of damage in one export, oversized records included; the stage goes on', async () => {
  const lines = [...generateTracking({ events: 3000, seed: 77, badRate: 0.005 }).lines].map(latin1);
  const header = splitLine(lines[0]!);
  const kinds = Object.keys(MUTATIONS);
  let k = 0;
  let r = 0.5;
  const rand = () => (r = (r * 9301 + 49297) % 233280 / 233280);
  const out = lines.map((l, i) => (i > 0 && i % 25 === 0 ? MUTATIONS[kinds[k++ % kinds.length]!]!(l, header, rand) : l));
  const file = path.join(s.dir, 'hostile.csv');
  fs.writeFileSync(file, Buffer.from(out.join('\n') + '\n', 'latin1'));
  const jobs = path.join(s.dir, 'job.csv');
  fs.writeFileSync(jobs, [...generateJobs(77)].join('\n') + '\n');
  await loadJobs(s, jobs);
  const exp = expectedFrom([file], jobs);
  assert.ok(exp.rejectedByLine.some((x) => x.kind === 'record_too_large'));
  await ingestAndPublishDirect(s, [file]);
  await consumeUntilCaughtUp(s);
  await assertExact(s, 'hostile corpus', exp);
});
