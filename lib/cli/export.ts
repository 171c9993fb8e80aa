import type { Connection } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { createMysqlPool } from '../clients/mysql';
import { config } from '../config';
import { canonicalDecimal } from '../domain/transform';
import { EXIT, UsageError, type Command } from './command';
import { csvRow } from '../csv';

export const EVENT_COLUMNS = [
  'job_id', 'dates', 'hours', 'publisher_id', 'campaign_id', 'group_id', 'bid_set', 'clicks', 'spend_hour',
  'conversion', 'qualified_application', 'disqualified_application', 'company_id', 'sources',
] as const;

const DECIMALS = new Set<string>(['bid_set', 'spend_hour']);

const help = `Usage: trackflow export events [--csv | --json]

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

export const command: Command = {
  name: 'export',
  summary: 'Print the warehouse events table in contract column order (export events [--csv|--json])',
  help,
  async run(argv) {
    const json = argv.includes('--json');
    const csv = argv.includes('--csv');
    if (json && csv) throw new UsageError('choose one of --csv and --json');
    const args = argv.filter((a) => a !== '--json' && a !== '--csv');
    const unknown = args.find((a) => a.startsWith('-'));
    if (unknown) throw new UsageError(`unknown option ${unknown}`);
    const [what, ...extra] = args;
    if (what !== 'events') throw new UsageError(what ? `cannot export "${what}" (only: events)` : 'missing what to export (events)');
    if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
    const pool = createMysqlPool(config().mysql, { connectionLimit: 1 });
    try {
      let buffered = '';
      await exportEvents(pool, json ? 'json' : 'csv', (chunk) => {
        buffered += chunk;
        if (buffered.length >= 1 << 16) {
          process.stdout.write(buffered);
          buffered = '';
        }
      });
      process.stdout.write(buffered);
      return EXIT.ok;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST'].includes(code)) {
        process.stderr.write(`trackflow export: MySQL unavailable: ${(err as Error).message}\n`);
        return EXIT.unavailable;
      }
      throw err;
    } finally {
      await pool.end();
    }
  },
};
