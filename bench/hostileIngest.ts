/**
 * The hostile-ingest stage of `npm run bench`: a clean and a hostile export of the same size, each ingested by
 * the activity's code (ingestFileCore with the configured limits) in its own child process with the workers'
 * Node flags, into a throw-away keyspace. The parent reads the child's CPU and RSS from /proc.
 */
import crypto from 'node:crypto';
import { createCassandraClient } from '../lib/clients/cassandra';
import { config } from '../lib/config';
import { ingestFileCore } from '../lib/ingest/ingest';
import { Metrics } from '../lib/metrics';
import { migrateCassandra } from '../lib/migrate/cassandra';
import type { HostileKind, SizedExport } from './hostile';
import type { Log } from './platform';
import type { ProcessUsage } from './resources';

/** What the child measures around ingestFileCore alone (its setup and the keyspace drop are not timed). */
export interface IngestTiming {
  file: string;
  bytes: number;
  seconds: number;
  rowsRead: number;
  written: number;
  rejected: number;
  /** user + system CPU of the child during ingestFileCore. */
  cpuSeconds: number;
}

export interface IngestRun extends IngestTiming {
  rowsPerSecond: number;
  mbPerSecond: number;
  /** The whole child process, read from /proc every 100 ms by the parent. */
  process: ProcessUsage;
}

export interface HostileIngestResult {
  bytes: number;
  seed: number;
  rounds: number;
  /** Every run, in the order they ran. */
  runs: Array<IngestRun & { export: 'clean' | 'hostile' }>;
  /** All clean runs together: seconds, rows, bytes and CPU summed, RSS the highest. */
  clean: IngestRun;
  hostile: IngestRun;
  injected: Partial<Record<HostileKind, number>>;
  injectedBytes: number;
  /** hostile MB/s / clean MB/s: the same byte count, so clean seconds / hostile seconds. */
  throughputRatio: number;
  /** hostile rows/s / clean rows/s (records read, rejects included). */
  rowsRatio: number;
}

const MB = 1e6;

/** Child side: one export through ingestFileCore into a scratch keyspace, dropped afterwards. */
export async function ingestOnce(file: string, bytes: number): Promise<IngestTiming> {
  const cfg = config();
  const keyspace = `trackflow_hbench_${crypto.randomBytes(4).toString('hex')}`;
  // The scratch keyspace is created and written by the migration role that owns it.
  const client = createCassandraClient(cfg.cassandra, { as: 'admin' });
  await client.connect();
  try {
    await migrateCassandra(client, keyspace);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const s = await ingestFileCore({ cassandra: client, keyspace, metrics: new Metrics() }, { path: file }, { limits: cfg.ingest });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (s.status !== 'ingested') throw new Error(`${file}: ingest ended as ${s.status}`);
    return { file, bytes, seconds, rowsRead: s.rowsRead, written: s.written, rejected: s.rejected, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }
}

const round = (x: number, d: number): number => Number(x.toFixed(d));

export function toRun(t: IngestTiming, usage: ProcessUsage): IngestRun {
  return {
    ...t,
    seconds: round(t.seconds, 2),
    cpuSeconds: round(t.cpuSeconds, 1),
    rowsPerSecond: Math.round(t.rowsRead / t.seconds),
    mbPerSecond: round(t.bytes / MB / t.seconds, 2),
    process: usage,
  };
}

/** Several runs of one export as one: totals, and the highest RSS. */
export function combineRuns(runs: IngestRun[]): IngestRun {
  const sum = (f: (r: IngestRun) => number): number => runs.reduce((s, r) => s + f(r), 0);
  const peak = runs.reduce((a, b) => (b.process.rssPeakMb > a.process.rssPeakMb ? b : a));
  const t: IngestTiming = {
    file: runs[0]!.file,
    bytes: sum((r) => r.bytes),
    seconds: sum((r) => r.seconds),
    rowsRead: sum((r) => r.rowsRead),
    written: sum((r) => r.written),
    rejected: sum((r) => r.rejected),
    cpuSeconds: sum((r) => r.cpuSeconds),
  };
  return toRun(t, { ...peak.process, cpuSeconds: round(sum((r) => r.process.cpuSeconds), 1) });
}

/**
 * Parent side: each export through `runChild` (which spawns the child and samples it), `rounds` times in
 * ABBA order (clean, hostile, hostile, clean, ...), so a load that drifts during the run weighs on both alike.
 */
export async function runHostileIngest(
  pair: { clean: SizedExport; hostile: SizedExport },
  opts: { seed: number; rounds?: number; log: Log; runChild: (e: SizedExport) => Promise<IngestRun> },
): Promise<HostileIngestResult> {
  const rounds = opts.rounds ?? 1;
  const runs: HostileIngestResult['runs'] = [];
  for (let i = 0; i < rounds; i++) {
    for (const e of i % 2 === 0 ? [pair.clean, pair.hostile] : [pair.hostile, pair.clean]) {
      opts.log(`  round ${i + 1}: ingest ${e.hostile ? 'hostile' : 'clean'} export: ${(e.bytes / MB).toFixed(0)} MB, ${e.lines} lines`);
      const run = await opts.runChild(e);
      opts.log(`    ${run.rowsRead} records (${run.rejected} rejected) in ${run.seconds} s = ${run.rowsPerSecond} rows/s, ${run.mbPerSecond} MB/s; CPU ${run.cpuSeconds} s, peak RSS ${run.process.rssPeakMb} MB`);
      runs.push({ ...run, export: e.hostile ? 'hostile' : 'clean' });
    }
  }
  const clean = combineRuns(runs.filter((r) => r.export === 'clean'));
  const hostile = combineRuns(runs.filter((r) => r.export === 'hostile'));
  return {
    bytes: pair.clean.bytes,
    seed: opts.seed,
    rounds,
    runs,
    clean,
    hostile,
    injected: pair.hostile.injected,
    injectedBytes: pair.hostile.injectedBytes,
    throughputRatio: round(hostile.bytes / hostile.seconds / (clean.bytes / clean.seconds), 3),
    rowsRatio: round(hostile.rowsPerSecond / clean.rowsPerSecond, 3),
  };
}
