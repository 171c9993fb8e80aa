import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EXIT, act, intRange, nonNegativeNumber, output } from './command';
import { writeDataset } from '../../lib/domain/generator';

const DETAILS = `
Writes a synthetic tracking export in the real format (DIR/tracking.csv, or tracking.csv.gz with --gzip),
the matching job export (DIR/job.csv) and DIR/manifest.json (row counts, and the line numbers of every
injected malformed row by kind). The same seed always produces the same bytes. Memory does not grow with N.
\`trackflow ingest --landing DIR\` then loads job.csv into the job dimension and ingests tracking.csv
(manifest.json is not a CSV and is left alone). Prints the absolute path of every file it wrote.`;

interface GenerateOptions {
  events: number;
  seed: number;
  out: string;
  badRate: number;
  days: number;
  gzip?: boolean;
  json?: boolean;
}

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function fraction(value: string): number {
  const n = nonNegativeNumber(value);
  if (n > 1) throw new InvalidArgumentError('must be from 0 to 1');
  return n;
}

async function generate(opts: GenerateOptions): Promise<number> {
  const out = path.resolve(opts.out);
  const started = Date.now();
  const res = await writeDataset(out, { events: opts.events, seed: opts.seed, badRate: opts.badRate, days: opts.days, gzip: opts.gzip === true });
  const { badByKind, ...counts } = res.manifest;
  output(opts.json === true, { ...res, durationMs: Date.now() - started }, () =>
    [
      `wrote ${res.trackingFile} (${counts.totalRows} rows, ${counts.badRows} malformed), ${res.jobFile}, ${res.manifestFile}`,
      ...Object.entries(badByKind).map(([k, lines]) => `  ${k}: ${lines.length}`),
    ].join('\n'),
  );
  return EXIT.ok;
}

export function defineGenerate(program: Command): void {
  program
    .command('generate')
    .description('Write a synthetic tracking export, job export and manifest (seeded, deterministic)')
    .option('--events <n>', 'data rows to write', intRange(0, Number.MAX_SAFE_INTEGER), 10_000)
    .option('--seed <s>', 'PRNG seed, an integer', integer, 1)
    .option('--out <dir>', 'output directory, relative to the current directory', 'landing')
    .option('--bad-rate <r>', 'fraction of rows replaced by malformed ones of every kind, 0..1', fraction, 0)
    .option('--days <d>', 'days the event times are spread over', intRange(1, 3650), 7)
    .option('--gzip', 'gzip the tracking export')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', DETAILS)
    .action(act(generate));
}
