import type { Connection } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import type { Command } from 'commander';
import { config } from '../../lib/config';
import { canonicalDecimal } from '../../lib/domain/transform';
import { EXIT, UsageError, act, group } from './command';
import { csvRow } from '../../lib/domain/csv';

export const EVENT_COLUMNS = [
  'job_id', 'dates', 'hours', 'publisher_id', 'campaign_id', 'group_id', 'bid_set', 'clicks', 'spend_hour',
  'conversion', 'qualified_application', 'disqualified_application', 'company_id', 'sources',
] as const;

const DECIMALS = new Set<string>(['bid_set', 'spend_hour']);

const DETAILS = `
Prints the warehouse table \`events\` with the contract columns in contract order, sorted by
(job_id, dates, hours, publisher_id, campaign_id, group_id). CSV (the default) has a header of the
column names and empty fields for NULL; --json prints one JSON array of objects with null for NULL.
Decimals (bid_set, spend_hour) are exact text with 2 to 6 fraction digits and no trailing zeros past
the second ("2.00", "0.125"); in JSON they are strings so no float rounding creeps in.`;

// Decimals are read as text: the driver would otherwise hand back doubles.
const SELECT = `SELECT job_id, DATE_FORMAT(dates, '%Y-%m-%d') AS dates, hours, publisher_id, campaign_id, group_id,
  CAST(bid_set AS CHAR) AS bid_set, clicks, CAST(spend_hour AS CHAR) AS spend_hour, conversion, qualified_application,
  disqualified_application, company_id, sources
FROM events ORDER BY job_id, dates, hours, publisher_id, campaign_id, group_id`;

function cell(column: string, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (DECIMALS.has(column)) return canonicalDecimal(String(value));
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return String(value);
}

/** Streams the table to `write`, row by row (the table can be far larger than memory). */
export async function exportEvents(pool: Pool, format: 'csv' | 'json', write: (chunk: string) => unknown): Promise<number> {
  const conn = await pool.getConnection();
  let n = 0;
  try {
    if (format === 'csv') write(EVENT_COLUMNS.join(',') + '\n');
    else write('[');
    const core = conn.connection as unknown as Connection;
    const stream = core.query(SELECT).stream();
    for await (const raw of stream as AsyncIterable<Record<string, unknown>>) {
      if (format === 'csv') {
        write(csvRow(EVENT_COLUMNS.map((c) => cell(c, raw[c]))) + '\n');
      } else {
        const obj: Record<string, unknown> = {};
        for (const c of EVENT_COLUMNS) {
          const v = cell(c, raw[c]);
          obj[c] = v === null || DECIMALS.has(c) || c === 'dates' || c === 'sources' ? v : Number(v);
        }
        write((n ? ',\n' : '\n') + JSON.stringify(obj));
      }
      n += 1;
    }
    if (format === 'json') write(n ? '\n]\n' : ']\n');
    return n;
  } finally {
    conn.release();
  }
}

async function exportCommand(opts: { csv?: boolean; json?: boolean }): Promise<number> {
  if (opts.json && opts.csv) throw new UsageError('choose one of --csv and --json');
  const { createMysqlPool } = await import('../../lib/clients/mysql');
  const pool = createMysqlPool(config().mysql, { connectionLimit: 1 });
  try {
    let buffered = '';
    await exportEvents(pool, opts.json ? 'json' : 'csv', (chunk) => {
      buffered += chunk;
      if (buffered.length >= 1 << 16) {
        process.stdout.write(buffered);
        buffered = '';
      }
    });
    process.stdout.write(buffered);
    return EXIT.ok;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export function defineExport(program: Command): void {
  group(program, 'export', 'Print the warehouse events table in contract column order')
    .command('events')
    .description('print the warehouse table events in contract order')
    .option('--csv', 'CSV with a header (the default)')
    .option('--json', 'one JSON array of objects')
    .addHelpText('after', DETAILS)
    .action(act(exportCommand));
}
