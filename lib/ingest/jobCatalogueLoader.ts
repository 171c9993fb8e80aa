import path from 'node:path';
import type { Pool } from 'mysql2/promise';
import { InvalidHeader, TooManyRejects } from '../domain/errors';
import type { LoadJobsSummary } from './summaries';
import { JOB_COLUMNS, checkJobHeader, checkJobRecord, type JobRow } from '../domain/jobRecord';
import { fixUnknownCompanies } from '../stream/jobCompanyLookup';
import { readCsvRecords, statOrFail } from './reader';
import { DEFAULT_INGEST_LIMITS, type IngestLimits } from './ingest';

export interface LoadJobsOptions {
  batchRows?: number;
  /** Record size, decompressed size and reject caps, shared with the tracking ingest. */
  limits?: IngestLimits;
  log?: (msg: string, fields: Record<string, unknown>) => void;
  /** Called after each upserted batch, and every `limits.heartbeatMs` whatever the rows do (heartbeat). */
  onProgress?: (rowsRead: number) => void;
}

const UPDATE_COLUMNS = JOB_COLUMNS.filter((c) => c !== 'id');

function upsertSql(rows: number): string {
  const cols = [...JOB_COLUMNS, 'updated_at'];
  const tuple = `(${JOB_COLUMNS.map(() => '?').join(', ')}, UTC_TIMESTAMP(3))`;
  // VALUES(col) is deprecated on MySQL 8.0.20+ but still works there, and it is the only form MariaDB knows.
  return (
    `INSERT INTO job (${cols.join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')} ` +
    `ON DUPLICATE KEY UPDATE ${[...UPDATE_COLUMNS, 'updated_at'].map((c) => `${c} = VALUES(${c})`).join(', ')}`
  );
}

async function upsert(pool: Pool, rows: JobRow[]): Promise<void> {
  if (!rows.length) return;
  const params: Array<string | number | null> = [];
  for (const r of rows) for (const c of JOB_COLUMNS) params.push(r[c]);
  await pool.query(upsertSql(rows.length), params);
}

/** Fills company_id on warehouse rows written before their job arrived. 0 when `events` does not exist yet. */
async function fixWarehouseCompanies(pool: Pool): Promise<number> {
  try {
    return await fixUnknownCompanies(pool);
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_NO_SUCH_TABLE') return 0;
    throw err;
  }
}

/** MySQL's verdict on a value, not on the connection: the row is bad whatever the retry. */
const DATA_ERRORS = new Set([
  'ER_DATA_TOO_LONG',
  'ER_TRUNCATED_WRONG_VALUE',
  'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
  'ER_WARN_DATA_OUT_OF_RANGE',
  'ER_BAD_NULL_ERROR',
  'WARN_DATA_TRUNCATED',
]);

function isDataError(err: unknown): boolean {
  return DATA_ERRORS.has((err as { code?: string }).code ?? '');
}

interface Rejecter {
  (line: number, reason: string): void;
}

/**
 * Upserts a batch; when MySQL refuses a value, the rows go one by one so only the bad one is rejected. Any
 * other error (connection, deadlock) is thrown and the activity retries: the upsert is idempotent.
 */
async function upsertOrSplit(pool: Pool, rows: Array<{ line: number; row: JobRow }>, reject: Rejecter): Promise<number> {
  try {
    await upsert(pool, rows.map((r) => r.row));
    return rows.length;
  } catch (err) {
    if (!isDataError(err) || rows.length === 0) throw err;
  }
  let done = 0;
  for (const r of rows) {
    try {
      await upsert(pool, [r.row]);
      done++;
    } catch (err) {
      if (!isDataError(err)) throw err;
      reject(r.line, `refused by MySQL: ${(err as { code?: string }).code ?? 'data error'}`);
    }
  }
  return done;
}

function checkJobRejectCaps(limits: IngestLimits, name: string, rejected: number, read: number): void {
  if (rejected > limits.maxRejects || (read >= limits.rejectRatioMinRecords && rejected / read > limits.maxRejectRatio)) {
    throw new TooManyRejects(`${name}: ${rejected} of ${read} job rows rejected, over the limits; the file stops here`);
  }
}

/**
 * Streams a job export into `job` with idempotent upserts, then back-fills warehouse company ids. The file is
 * read by the same bounded reader as the tracking export (record size, field count, decompressed size); a bad
 * row is rejected with its line and reason and the load goes on.
 */
export async function loadJobsCore(pool: Pool, input: { path: string }, opts: LoadJobsOptions = {}): Promise<LoadJobsSummary> {
  const file = path.resolve(input.path);
  await statOrFail(file);
  const name = path.basename(file);
  const limits = opts.limits ?? DEFAULT_INGEST_LIMITS;
  const batchRows = opts.batchRows ?? 500;
  const log = opts.log ?? ((msg, fields) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...fields })}\n`));
  let rowsRead = 0;
  let upserted = 0;
  let rejected = 0;
  let header = true;
  let batch: Array<{ line: number; row: JobRow }> = [];
  const reject: Rejecter = (line, reason) => {
    rejected++;
    log('job row rejected', { file: name, line, reason });
  };
  // Later rows of the same id win, as a re-run of the same export would make them.
  const flush = async (): Promise<void> => {
    const byId = new Map<number, { line: number; row: JobRow }>();
    for (const r of batch) byId.set(r.row.id as number, r);
    const n = await upsertOrSplit(pool, [...byId.values()], reject);
    upserted += n + (batch.length - byId.size);
    batch = [];
    opts.onProgress?.(rowsRead);
  };
  const timer = setInterval(() => opts.onProgress?.(rowsRead), limits.heartbeatMs);
  timer.unref();
  try {
    await readAll();
  } finally {
    clearInterval(timer);
  }
  const warehouseRowsFixed = await fixWarehouseCompanies(pool);
  return { file, rowsRead, upserted, rejected, warehouseRowsFixed };

  async function readAll(): Promise<void> {
    for await (const rec of readCsvRecords(file, { limits })) {
      if (header && !rec.parseError) {
        header = false;
        const err = checkJobHeader(rec.fields);
        if (err) throw new InvalidHeader(`${name}: ${err}`);
        continue;
      }
      rowsRead++;
      const check = rec.parseError ? { ok: false as const, reason: rec.parseError } : checkJobRecord(rec.fields);
      if (!check.ok) reject(rec.line, check.reason);
      else batch.push({ line: rec.line, row: check.row });
      checkJobRejectCaps(limits, name, rejected, rowsRead);
      if (batch.length >= batchRows) await flush();
    }
    await flush();
  }
}
