import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { config } from '../../lib/config';
import { EXIT, UsageError, act, group, output } from './command';

const DETAILS = `
Loads a job export (30 columns, multi-line quoted descriptions allowed; .csv or .csv.gz) into the
warehouse's job dimension with idempotent upserts, then fills company_id on warehouse rows that were
written before their job arrived. Rows that fail validation are counted as rejected and logged.
Exit status: 0 loaded, 1 the file failed, 2 bad usage (also: no such file), 3 MySQL unreachable.`;

async function loadJobs(file: string, opts: { json?: boolean }): Promise<number> {
  // Same check and exit code as `ingest`: a typo is bad usage, not a failed load.
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`no such file: ${path.resolve(file)}`);
  const { createMysqlPool } = await import('../../lib/clients/mysql');
  const { loadJobsCore } = await import('../../lib/ingest/jobCatalogueLoader');
  const pool = createMysqlPool(config().mysql);
  try {
    const summary = await loadJobsCore(pool, { path: file });
    output(Boolean(opts.json), summary, () =>
      [
        `jobs loaded from ${summary.file}`,
        `  rows read:            ${summary.rowsRead}`,
        `  upserted:             ${summary.upserted}`,
        `  rejected:             ${summary.rejected}`,
        `  warehouse rows fixed: ${summary.warehouseRowsFixed}`,
      ].join('\n'),
    );
    return EXIT.ok;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export function defineJobs(program: Command): void {
  group(program, 'jobs', 'Load a job export into the job dimension')
    .command('load')
    .description('load a job export into the job dimension')
    .argument('<job.csv>', 'the job export (.csv or .csv.gz)')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', DETAILS)
    .action(act(loadJobs));
}
