import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parse } from 'csv-parse';
import type { Pool } from 'mysql2/promise';
import { ApplicationFailure } from '@temporalio/common';
import type { LoadJobsSummary } from '../../activities/types';
import { JOB_COLUMNS, checkJobHeader, checkJobRecord, type JobRow } from '../domain/jobs';
import { statOrFail } from './reader';

export interface LoadJobsOptions {
  batchRows?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
  /** Called after each upserted batch (heartbeat). */
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
export async function fixWarehouseCompanies(pool: Pool): Promise<number> {
  try {
    const [res] = await pool.query(
      `UPDATE events e JOIN job j ON j.id = e.job_id SET e.company_id = j.company_id, e.updated_at = UTC_TIMESTAMP(3) ` +
        `WHERE e.company_id IS NULL AND j.company_id IS NOT NULL`,
    );
    return (res as { affectedRows: number }).affectedRows;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_NO_SUCH_TABLE') return 0;
    if (code === 'ER_BAD_FIELD_ERROR') {
      const [res] = await pool.query(
        `UPDATE events e JOIN job j ON j.id = e.job_id SET e.company_id = j.company_id WHERE e.company_id IS NULL AND j.company_id IS NOT NULL`,
      );
      return (res as { affectedRows: number }).affectedRows;
    }
    throw err;
  }
}

/** Streams a job export into `job` with idempotent upserts, then back-fills warehouse company ids. */
export async function loadJobsCore(pool: Pool, input: { path: string }, opts: LoadJobsOptions = {}): Promise<LoadJobsSummary> {
  const file = path.resolve(input.path);
  await statOrFail(file);
  const batchRows = opts.batchRows ?? 500;
  const log = opts.log ?? ((msg, fields) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...fields })}\n`));
  const source = fs.createReadStream(file);
  const parser = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'],
    info: true,
  });
  const input$ = /\.gz$/i.test(file) ? source.pipe(zlib.createGunzip()) : source;
  input$.on('error', (err: Error) => parser.destroy(err));
  input$.pipe(parser);

  let rowsRead = 0;
  let upserted = 0;
  let rejected = 0;
  let header = true;
  let batch: JobRow[] = [];
  // Later rows of the same id win, as a re-run of the same export would make them.
  const flush = async (): Promise<void> => {
    const byId = new Map<number, JobRow>();
    for (const r of batch) byId.set(r.id as number, r);
    await upsert(pool, [...byId.values()]);
    upserted += batch.length;
    batch = [];
    opts.onProgress?.(rowsRead);
  };
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header) {
        header = false;
        const err = checkJobHeader(item.record);
        if (err) throw ApplicationFailure.nonRetryable(`${path.basename(file)}: ${err}`, 'InvalidHeader');
        continue;
      }
      rowsRead++;
      const check = checkJobRecord(item.record);
      if (!check.ok) {
        rejected++;
        log('job row rejected', { file: path.basename(file), line: item.info.lines, reason: check.reason });
        continue;
      }
      batch.push(check.row);
      if (batch.length >= batchRows) await flush();
    }
    await flush();
  } finally {
    source.destroy();
  }
  const warehouseRowsFixed = await fixWarehouseCompanies(pool);
  return { file, rowsRead, upserted, rejected, warehouseRowsFixed };
}
