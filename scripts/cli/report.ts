import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'mysql2/promise';
import type { Command } from 'commander';
import { config } from '../../lib/config';
import type { Section } from '../../lib/report/format';
import { SECTIONS, formatCsv, formatHtml, formatText, toJson } from '../../lib/report/format';
import { queryReport } from '../../lib/report/queries';
import { EXIT, UsageError, act, intRange, oneOf } from './command';

const DETAILS = `
Where to invest next, from the warehouse table \`events\`: per company and per campaign (largest spend
first), the top N jobs by spend then clicks, and the hourly trend (UTC). Each has clicks, spend
(SUM spend_hour), conversions, qualified, disqualified, conversion rate (conversions / clicks, empty
without clicks) and cost per conversion (spend / conversions, empty without conversions).

Exit status: 0 ok, 2 bad usage, 3 MySQL unreachable.`;

interface Args {
  format: 'text' | 'json' | 'csv';
  sections: Section[];
  html?: string;
  top: number;
}

interface ReportOptions {
  json?: boolean;
  csv?: boolean;
  section?: Section[];
  html?: string;
  top: number;
}

function argsOf(opts: ReportOptions): Args {
  if (opts.json && opts.csv) throw new UsageError('choose one of --json and --csv');
  const chosen = opts.section?.length ? opts.section : SECTIONS;
  // Keep the document order stable whatever order the flags came in.
  return { format: opts.json ? 'json' : opts.csv ? 'csv' : 'text', sections: SECTIONS.filter((s) => chosen.includes(s)), html: opts.html, top: opts.top };
}

/** Queries and renders; returns what goes to stdout. Takes a pool so tests can point it at their database. */
export async function renderReport(pool: Pool, args: Args, now = new Date()): Promise<{ stdout: string; html?: string }> {
  const report = await queryReport(pool, { top: args.top });
  const stdout =
    args.format === 'json'
      ? JSON.stringify(toJson(report, args.sections), null, 2) + '\n'
      : args.format === 'csv'
        ? formatCsv(report, args.sections)
        : formatText(report, args.sections) + '\n';
  const html = args.html ? formatHtml(report, { generatedAt: now.toISOString(), sections: args.sections }) : undefined;
  return { stdout, html };
}

async function reportCommand(opts: ReportOptions): Promise<number> {
  const args = argsOf(opts);
  const htmlPath = args.html ? path.resolve(args.html) : undefined;
  if (htmlPath && !fs.statSync(path.dirname(htmlPath), { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--html ${args.html}: no such directory ${path.dirname(htmlPath)}`);
  }
  const { createMysqlPool } = await import('../../lib/clients/mysql');
  const pool = createMysqlPool(config().mysql, { connectionLimit: 4 });
  try {
    const out = await renderReport(pool, args);
    process.stdout.write(out.stdout);
    if (htmlPath && out.html !== undefined) {
      fs.writeFileSync(htmlPath, out.html);
      process.stderr.write(`wrote ${htmlPath} (${out.html.length.toLocaleString('en-US')} bytes, self-contained)\n`);
    }
    return EXIT.ok;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export function defineReport(program: Command): void {
  const section = oneOf(...SECTIONS);
  program
    .command('report')
    .description('Clicks, spend and conversions per company, campaign, top jobs and hour')
    .option('--json', 'one JSON object keyed by section')
    .option('--csv', 'CSV, every section preceded by a "# section" line (one plain table with --section)')
    .option('--section <s>', `only this section, repeatable (${SECTIONS.join(', ')})`, (v: string, prev: Section[] = []) => [...prev, section(v)])
    .option('--html <file>', 'also write a self-contained HTML page with bar charts to FILE')
    .option('--top <n>', 'how many jobs to list', intRange(1, 10_000), 10)
    .addHelpText('after', DETAILS)
    .action(act(reportCommand));
}
