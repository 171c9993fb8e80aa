import fs from 'node:fs';
import path from 'node:path';
import type { Pool } from 'mysql2/promise';
import { createMysqlPool } from '../../lib/clients/mysql';
import { config } from '../../lib/config';
import type { Section } from '../../lib/report/format';
import { SECTIONS, formatCsv, formatHtml, formatText, toJson } from '../../lib/report/format';
import { queryReport } from '../../lib/report/queries';
import { EXIT, UsageError, type Command } from './command';
import { serviceErrorExit } from './serviceErrors';

const help = `Usage: trackflow report [--json | --csv] [--section company|campaign|jobs|hourly] [--html FILE] [--top N]

Where to invest next, from the warehouse table \`events\`: per company and per campaign (largest spend
first), the top N jobs by spend then clicks, and the hourly trend (UTC). Each has clicks, spend
(SUM spend_hour), conversions, qualified, disqualified, conversion rate (conversions / clicks, empty
without clicks) and cost per conversion (spend / conversions, empty without conversions).

  --json          one JSON object keyed by section
  --csv           CSV, every section preceded by a "# section" line (one plain table with --section)
  --section S     only this section (repeatable)
  --html FILE     also write a self-contained HTML page with bar charts to FILE
  --top N         how many jobs to list (default 10)

Exit status: 0 ok, 2 bad usage, 3 MySQL unreachable.`;

interface Args {
  format: 'text' | 'json' | 'csv';
  sections: Section[];
  html?: string;
  top: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { format: 'text', sections: [], top: 10 };
  const value = (i: number, a: string): [string, number] => {
    if (a.includes('=')) return [a.slice(a.indexOf('=') + 1), i];
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${a} needs a value`);
    return [v, i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split('=', 1)[0]!;
    if (a === '--json' || a === '--csv') {
      const f = a.slice(2) as 'json' | 'csv';
      if (args.format !== 'text' && args.format !== f) throw new UsageError('choose one of --json and --csv');
      args.format = f;
    } else if (name === '--section') {
      const [v, next] = value(i, a);
      i = next;
      if (!(SECTIONS as readonly string[]).includes(v)) throw new UsageError(`unknown section ${v} (${SECTIONS.join(', ')})`);
      if (!args.sections.includes(v as Section)) args.sections.push(v as Section);
    } else if (name === '--html') {
      const [v, next] = value(i, a);
      i = next;
      args.html = v;
    } else if (name === '--top') {
      const [v, next] = value(i, a);
      i = next;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new UsageError(`invalid --top ${v}`);
      args.top = n;
    } else throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
  }
  if (!args.sections.length) args.sections = [...SECTIONS];
  // Keep the document order stable whatever order the flags came in.
  args.sections = SECTIONS.filter((s) => args.sections.includes(s));
  return args;
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

export const command: Command = {
  name: 'report',
  summary: 'Clicks, spend and conversions per company, campaign, top jobs and hour (report [--json|--csv] [--html FILE])',
  help,
  async run(argv) {
    const args = parseArgs(argv);
    const htmlPath = args.html ? path.resolve(args.html) : undefined;
    if (htmlPath && !fs.statSync(path.dirname(htmlPath), { throwIfNoEntry: false })?.isDirectory()) {
      throw new UsageError(`--html ${args.html}: no such directory ${path.dirname(htmlPath)}`);
    }
    const pool = createMysqlPool(config().mysql, { connectionLimit: 4 });
    try {
      const out = await renderReport(pool, args);
      process.stdout.write(out.stdout);
      if (htmlPath && out.html !== undefined) {
        fs.writeFileSync(htmlPath, out.html);
        process.stderr.write(`wrote ${htmlPath} (${out.html.length.toLocaleString('en-US')} bytes, self-contained)\n`);
      }
      return EXIT.ok;
    } catch (err) {
      return serviceErrorExit('report', err);
    } finally {
      await pool.end().catch(() => undefined);
    }
  },
};
