/**
 * Ingest throughput and memory on the real Cassandra: generates N rows (cached by seed), ingests them into
 * a throw-away keyspace, prints rows/s and the peak RSS sampled every 100 ms, then drops the keyspace.
 *
 *   node --max-old-space-size=256 --import tsx bench/bench-ingest.ts [--events 1000000] [--seed 1]
 *     [--dir /tmp/trackflow-bench] [--keep] [--chunk ROWS] [--concurrency N]   (default: the ingest's own defaults)
 *
 * Without the workers' old-space cap (plain `npx tsx`), V8 sizes the heap by the allocation rate and the peak
 * RSS is tens of MB above a worker's: 235 MB against 147 MB for the read path alone (bench/README.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { config } from '../lib/config';
import { createCassandraClient } from '../lib/clients/cassandra';
import { migrateCassandra } from '../lib/migrate/cassandra';
import { writeDataset } from '../lib/domain/generator';
import { ingestFileCore } from '../lib/ingest/ingest';
import { Metrics } from '../lib/metrics';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const events = Number(arg('events', '1000000'));
  const seed = Number(arg('seed', '1'));
  const chunkRows = arg('chunk', '') ? Number(arg('chunk', '')) : undefined;
  const concurrency = arg('concurrency', '') ? Number(arg('concurrency', '')) : undefined;
  const dir = path.join(arg('dir', path.join(os.tmpdir(), 'trackflow-bench')), `${events}-${seed}`);
  const file = path.join(dir, 'tracking.csv');
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    const t = Date.now();
    await writeDataset(dir, { events, seed, badRate: 0.001, days: 14 });
    process.stderr.write(`generated ${events} rows in ${Date.now() - t} ms\n`);
  }
  const cfg = config();
  const keyspace = `trackflow_bench_${process.pid}`;
  // The benchmark's scratch keyspace is created and written by the migration role that owns it.
  const client = createCassandraClient(cfg.cassandra, { as: 'admin' });
  await client.connect();
  await migrateCassandra(client, keyspace);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const started = Date.now();
  let lastLog = started;
  try {
    const summary = await ingestFileCore(
      { cassandra: client, keyspace, metrics: new Metrics() },
      { path: file },
      {
        chunkRows,
        concurrency,
        onProgress: (p) => {
          if (Date.now() - lastLog > 10_000) {
            lastLog = Date.now();
            process.stderr.write(`  line ${p.line}, ${Math.round(p.rowsRead / ((Date.now() - started) / 1000))} rows/s\n`);
          }
        },
      },
    );
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const result = {
      events,
      fileBytes: fs.statSync(file).size,
      seconds: Number(seconds.toFixed(1)),
      rowsPerSecond: Math.round(summary.rowsRead / seconds),
      peakRssMb: Math.round(peakRss / 2 ** 20),
      chunkRows: chunkRows ?? 'default',
      concurrency: concurrency ?? 'default',
      cpuSeconds: Number((process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6).toFixed(1)),
      summary,
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    clearInterval(sampler);
    if (!process.argv.includes('--keep')) await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
