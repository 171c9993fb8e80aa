/**
 * Where the publisher's time goes: each step of Cassandra -> Kafka timed on its own, then the real thing.
 *
 *   npx tsx bench/bench-publish.ts [--events 200000] [--seed 1] [--page 5000]
 *   node --cpu-prof --cpu-prof-dir bench/results --import tsx bench/bench-publish.ts   (for a CPU profile)
 */
import { ensureDataset } from './pipeline';
import { profilePublishSteps } from './publishSteps';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = Number(i >= 0 ? process.argv[i + 1] : fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

async function main(): Promise<void> {
  const data = await ensureDataset(arg('events', 200_000), arg('seed', 1), log);
  const steps = await profilePublishSteps(data, { pageSize: arg('page', 5000), log });
  process.stdout.write(JSON.stringify({ events: data.events, steps }, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
