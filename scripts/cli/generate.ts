import path from 'node:path';
import { EXIT, UsageError, output, type Command } from './command';
import { writeDataset } from '../../lib/domain/generator';

const help = `Usage: trackflow generate [--events N] [--seed S] [--out DIR] [--bad-rate R] [--days D] [--gzip] [--json]

Writes a synthetic tracking export in the real format (DIR/tracking.csv, or tracking.csv.gz with --gzip),
the matching job export (DIR/job.csv) and DIR/manifest.json (row counts, and the line numbers of every
injected malformed row by kind). The same seed always produces the same bytes. Memory does not grow with N.
\`trackflow ingest --landing DIR\` then loads job.csv into the job dimension and ingests tracking.csv
(manifest.json is not a CSV and is left alone). Prints the absolute path of every file it wrote.

  --events N     data rows to write (default 10000)
  --seed S       PRNG seed, an integer (default 1)
  --out DIR      output directory, relative to the current directory (default landing)
  --bad-rate R   fraction of rows replaced by malformed ones of every kind, 0..1 (default 0)
  --days D       days the event times are spread over (default 7)
  --gzip         gzip the tracking export`;

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument ${a}`);
    const [key, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (['gzip', 'json'].includes(key)) out[key] = true;
    else if (['events', 'seed', 'out', 'bad-rate', 'days'].includes(key)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${key} needs a value`);
      out[key] = value;
    } else throw new UsageError(`unknown option --${key}`);
  }
  return out;
}

function num(v: string | true | undefined, name: string, fallback: number | undefined, check: (n: number) => boolean): number {
  if (v === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || !check(n)) throw new UsageError(`invalid --${name} ${String(v)}`);
  return n;
}

export const command: Command = {
  name: 'generate',
  summary: 'Write a synthetic tracking export, job export and manifest (seeded, deterministic)',
  help,
  async run(argv) {
    const a = parseArgs(argv);
    const events = num(a['events'], 'events', 10_000, (n) => Number.isInteger(n) && n >= 0);
    const seed = num(a['seed'], 'seed', 1, (n) => Number.isInteger(n));
    const badRate = num(a['bad-rate'], 'bad-rate', 0, (n) => n >= 0 && n <= 1);
    const days = num(a['days'], 'days', 7, (n) => Number.isInteger(n) && n >= 1 && n <= 3650);
    const out = path.resolve(typeof a['out'] === 'string' ? a['out'] : 'landing');
    const started = Date.now();
    const res = await writeDataset(out, { events, seed, badRate, days, gzip: a['gzip'] === true });
    const { badByKind, ...counts } = res.manifest;
    output(a['json'] === true, { ...res, durationMs: Date.now() - started }, () =>
      [
        `wrote ${res.trackingFile} (${counts.totalRows} rows, ${counts.badRows} malformed), ${res.jobFile}, ${res.manifestFile}`,
        ...Object.entries(badByKind).map(([k, lines]) => `  ${k}: ${lines.length}`),
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
