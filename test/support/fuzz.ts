import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { generateJobs, generateTracking } from '../../lib/domain/generator';
import { assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, type FaultStack } from './faults';
import { expectedFrom } from './reference';
import { fixtureLines, latin1, mutateExport, reshape, rng } from './mutate';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/**
 * One fuzz round: two overlapping exports built from real lines (the fixture and the generator), about `rate`
 * of their lines mutated, the second with its columns reordered and one unknown column added. Both go
 * through ingest, publish and the stream on the real stack; the warehouse must equal the reference
 * aggregator's rows over the valid events and reconcile must hold with the rejects counted.
 */
export async function fuzzRound(stack: FaultStack, lines: number, seed: number, rate: number): Promise<Record<string, number>> {
  const r = rng(seed);
  const gen = [...generateTracking({ events: lines, seed, badRate: 0.002 }).lines].map(latin1);
  const real = [gen[0]!, ...fixtureLines(FIXTURES), ...gen.slice(1)];
  const half = Math.floor(real.length / 2);
  const a = mutateExport(real.slice(0, half + 200), rate, r);
  const b = mutateExport(reshape([real[0]!, ...real.slice(half)], r), rate, r);
  const files = [path.join(stack.dir, `fuzz-${seed}-a.csv`), path.join(stack.dir, `fuzz-${seed}-b.csv`)];
  fs.writeFileSync(files[0]!, a.bytes);
  fs.writeFileSync(files[1]!, b.bytes);
  const jobs = path.join(stack.dir, `job-${seed}.csv`);
  fs.writeFileSync(jobs, [...generateJobs(seed)].join('\n') + '\n');
  await loadJobs(stack, jobs);
  const exp = expectedFrom(files, jobs);
  await ingestAndPublishDirect(stack, files);
  await consumeUntilCaughtUp(stack);
  await assertExact(stack, `fuzz seed ${seed}`, exp);
  assert.ok(exp.rejected > 0 && exp.counted > 0, 'the run had both rejects and counted events');
  const applied: Record<string, number> = {};
  for (const m of [a.applied, b.applied]) for (const [k, n] of Object.entries(m)) applied[k] = (applied[k] ?? 0) + n;
  return { ...applied, lines: real.length, rejected: exp.rejected, counted: exp.counted };
}

