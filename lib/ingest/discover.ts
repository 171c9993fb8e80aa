import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Client } from 'cassandra-driver';
import type { DiscoverFilesResult, DiscoveredFile, SkippedFile } from './summaries';
import { JOB_COLUMNS } from '../domain/jobRecord';
import { hashFile } from './reader';

export const LANDING_FILE_RE = /\.csv(\.gz)?$/i;

/** The columns a tracking export cannot do without; others may be missing, added or reordered. */
export const ESSENTIAL_TRACKING_COLUMNS = ['create_time', 'custom_track', 'job_id', 'bid', 'campaign_id', 'group_id', 'publisher_id'] as const;

export const NOT_AN_EXPORT = 'not a tracking or job export';

/** A header line longer than this is not one of ours (both exports have ~30 short column names). */
const MAX_HEADER_BYTES = 64 * 1024;

export type ExportKind = 'tracking' | 'job' | 'other';

/** Splits a CSV header line into trimmed names; quotes are only stripped, since no column name holds a comma. */
export function headerColumns(line: string): string[] {
  return line
    .replace(/^\uFEFF/, '')
    .replace(/\r$/, '')
    .split(',')
    .map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim());
}

/** Recognises an export by its header: tracking by its essential columns (by name), job by its exact 30 columns. */
export function classifyHeader(columns: readonly string[]): ExportKind {
  const names = new Set(columns);
  if (ESSENTIAL_TRACKING_COLUMNS.every((c) => names.has(c))) return 'tracking';
  if (columns.length === JOB_COLUMNS.length && JOB_COLUMNS.every((c, i) => columns[i] === c)) return 'job';
  return 'other';
}

/** Reads the first line of a file (through gunzip for .gz), or undefined when it cannot be read as text. */
export async function readHeaderLine(file: string): Promise<string | undefined> {
  const raw = fs.createReadStream(file, { highWaterMark: 16 * 1024 });
  const source = /\.gz$/i.test(file) ? raw.pipe(zlib.createGunzip()) : raw;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      const nl = buf.indexOf(0x0a);
      chunks.push(nl >= 0 ? buf.subarray(0, nl) : buf);
      size += buf.length;
      if (nl >= 0 || size > MAX_HEADER_BYTES) break;
    }
  } catch {
    return undefined; // a corrupt gzip or an unreadable file: not an export we can recognise
  } finally {
    raw.destroy();
    source.destroy();
  }
  if (size > MAX_HEADER_BYTES && !chunks.length) return undefined;
  return Buffer.concat(chunks).toString('utf8');
}

export async function classifyFile(file: string): Promise<ExportKind> {
  const line = await readHeaderLine(file);
  return line === undefined ? 'other' : classifyHeader(headerColumns(line));
}

async function landingNames(dir: string): Promise<string[]> {
  try {
    return (await fs.promises.readdir(dir)).filter((n) => LANDING_FILE_RE.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function isIngested(cassandra: Client, keyspace: string, contentHash: string): Promise<boolean> {
  const rs = await cassandra.execute(`SELECT status FROM ${keyspace}.file_registry WHERE content_hash = ?`, [contentHash], {
    prepare: true,
  });
  return rs.rows[0]?.['status'] === 'ingested';
}

/**
 * Lists the exports in a landing directory by what their header says they are: tracking exports split by
 * whether their content was ingested, job exports (loaded before the tracking files), and anything else,
 * which is skipped with a reason rather than failed.
 */
export async function discoverFilesCore(
  cassandra: Client,
  keyspace: string,
  landingDir: string,
  keepAlive?: () => void,
): Promise<DiscoverFilesResult> {
  const dir = path.resolve(landingDir);
  const result: Required<DiscoverFilesResult> = { newFiles: [], alreadyIngested: [], jobFiles: [], skipped: [] };
  for (const name of await landingNames(dir)) {
    const full = path.join(dir, name);
    const st = await fs.promises.stat(full).catch(() => undefined);
    if (!st?.isFile()) continue;
    const kind = await classifyFile(full);
    if (kind === 'other') {
      result.skipped.push({ path: full, reason: NOT_AN_EXPORT } satisfies SkippedFile);
      continue;
    }
    const { hash, size } = await hashFile(full, keepAlive);
    const file: DiscoveredFile = { path: full, contentHash: hash, sizeBytes: size };
    keepAlive?.();
    if (kind === 'job') result.jobFiles.push(file);
    else if (await isIngested(cassandra, keyspace, hash)) result.alreadyIngested.push(file);
    else result.newFiles.push(file);
  }
  return result;
}
