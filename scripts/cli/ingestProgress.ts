import fs from 'node:fs';
import zlib from 'node:zlib';
import type { FileResult, IngestProgress } from '../../workflows';

/** What the ingest activity heartbeats (lib/ingest/ingest.ts): rows read so far and the file's batch id. */
export interface FileHeartbeat {
  ingestBatch?: string;
  rowsRead: number;
}

/** The state of the file being ingested, between two polls. */
export interface FileRate {
  path: string;
  startedAt: number;
  rows: number;
  at: number;
  /** Rows per second, smoothed over the polls. */
  rate: number;
  estimatedRows?: number;
}

const SAMPLE_BYTES = 256 * 1024;

/** Estimates a file's data rows from the newlines in its first 256 KiB (through gunzip for .gz). */
export function estimateRows(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, SAMPLE_BYTES));
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const sample = buf.subarray(0, n);
    const text = /\.gz$/i.test(file) ? zlib.gunzipSync(sample, { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : sample;
    let lines = 0;
    for (let i = text.indexOf(0x0a); i >= 0; i = text.indexOf(0x0a, i + 1)) lines++;
    if (n >= size) return Math.max(0, lines - 1);
    return lines > 1 ? Math.round(((lines - 1) * size) / n) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Folds a new heartbeat into the current file's rate (exponentially smoothed so one slow poll does not swing it). */
export function nextRate(prev: FileRate | undefined, path: string, rows: number, now: number, estimate: (p: string) => number | undefined): FileRate {
  if (!prev || prev.path !== path) return { path, startedAt: now, rows, at: now, rate: 0, estimatedRows: estimate(path) };
  const dt = (now - prev.at) / 1000;
  if (dt <= 0 || rows === prev.rows) return { ...prev, at: rows === prev.rows ? prev.at : now };
  const instant = (rows - prev.rows) / dt;
  return { ...prev, rows, at: now, rate: prev.rate ? 0.5 * prev.rate + 0.5 * instant : instant };
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** One status line: phase, file n/N, rows read, rows/s, ETA and the batch id (a bar in front on a TTY). */
export function progressLine(p: IngestProgress, hb: FileHeartbeat | undefined, rate: FileRate | undefined, tty: boolean): string {
  if (p.phase === 'discovering') return p.current ? `loading job export ${p.current}` : 'discovering new files...';
  if (p.phase === 'publishing') return `publishing: ${p.publish.published} events in ${p.publish.rounds} rounds so far`;
  if (p.phase === 'done') return 'done';
  const head = `ingesting ${Math.min(p.done + 1, p.total)}/${p.total}${p.current ? `: ${p.current}` : ''}`;
  if (!hb) return head;
  const rows = hb.rowsRead;
  const est = rate?.estimatedRows && rate.estimatedRows >= rows ? rate.estimatedRows : undefined;
  const speed = rate?.rate ?? 0;
  const eta = est !== undefined && speed > 0 ? `, ETA ${formatDuration((est - rows) / speed)}` : '';
  const counts = `${rows.toLocaleString('en-US')}${est !== undefined ? `/~${est.toLocaleString('en-US')}` : ''} rows, ${Math.round(speed).toLocaleString('en-US')} rows/s${eta}`;
  const batch = hb.ingestBatch ? `, batch ${hb.ingestBatch}` : '';
  const prefix = tty && est ? `${bar(rows / est)} ` : '';
  return `${prefix}${head}: ${counts}${batch}`;
}

/** Printed once per finished file, so the batch id `reconcile --batch` needs is in the scrollback. */
export function fileDoneLine(f: FileResult): string {
  if (f.status === 'failed') return `failed    ${f.path}: ${f.error ?? ''}`;
  const s = f.summary;
  return `${f.status.padEnd(9)} ${f.path}${s ? `: batch ${s.ingestBatch}, ${s.rowsRead} rows read, ${s.written} written, ${s.rejected} rejected` : ''}`;
}
