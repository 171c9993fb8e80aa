/**
 * The ingest's read path without Cassandra: a file through readCsvRecords and checkRecord, holding the rows
 * the way ingest does (the chunk being filled and the chunk being written, DEFAULT_CHUNK_ROWS each). Prints
 * records/s and the memory those held rows keep alive (heap after a full GC, and peak RSS).
 *
 *   node --max-old-space-size=256 --expose-gc --import tsx bench/bench-splitter.ts FILE [--chunk 10000]
 */
import fs from 'node:fs';
import { checkRecord, planColumns, type ColumnPlan, type TrackingRow } from '../lib/domain/tracking';
import { readCsvRecords } from '../lib/ingest/reader';

const MB = 2 ** 20;

async function main(): Promise<void> {
  const file = process.argv[2] ?? '';
  const i = process.argv.indexOf('--chunk');
  const chunkRows = i > 0 ? Number(process.argv[i + 1]) : 10_000;
  const gc = (globalThis as { gc?: () => void }).gc;
  let plan: ColumnPlan | undefined;
  let filling: TrackingRow[] = [];
  let writing: TrackingRow[] = [];
  let records = 0;
  let rejected = 0;
  let rssPeak = 0;
  let heapHeldPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 100);
  const t0 = process.hrtime.bigint();
  for await (const rec of readCsvRecords(file)) {
    if (!plan) {
      const h = planColumns(rec.fields);
      if (!h.ok) throw new Error(h.error);
      plan = h.plan;
      continue;
    }
    records++;
    const c = rec.parseError ? undefined : checkRecord(rec.fields, rec.invalidUtf8Column, plan);
    if (c?.ok) filling.push(c.row);
    else rejected++;
    if (filling.length >= chunkRows) {
      writing = filling;
      filling = [];
      // Every 50 chunks: what two chunks of rows keep alive, after a full collection.
      if (gc && (records / chunkRows) % 50 < 1) {
        gc();
        heapHeldPeak = Math.max(heapHeldPeak, process.memoryUsage().heapUsed);
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  gc?.();
  const heldAtEnd = process.memoryUsage().heapUsed;
  const cpu = process.cpuUsage();
  process.stdout.write(
    JSON.stringify({
      file,
      bytes: fs.statSync(file).size,
      records,
      rejected,
      seconds: Number(seconds.toFixed(2)),
      recordsPerSecond: Math.round(records / seconds),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      rssPeakMb: Math.round(Math.max(rssPeak, process.memoryUsage.rss()) / MB),
      heapAfterGcPeakMb: Math.round(heapHeldPeak / MB),
      heapAfterGcEndMb: Math.round(heldAtEnd / MB),
      heldRows: filling.length + writing.length,
    }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
