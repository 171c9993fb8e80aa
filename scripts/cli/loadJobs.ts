import fs from 'node:fs';
import path from 'node:path';
import { EXIT, UsageError, output, type Command } from './command';
import { config } from '../../lib/config';
import { createMysqlPool } from '../../lib/clients/mysql';
import { loadJobsCore } from '../../lib/ingest/jobs';
import { serviceErrorExit } from './serviceErrors';

const help = `Usage: trackflow jobs load <job.csv> [--json]

Loads a job export (30 columns, multi-line quoted descriptions allowed; .csv or .csv.gz) into the
warehouse's job dimension with idempotent upserts, then fills company_id on warehouse rows that were
written before their job arrived. Rows that fail validation are counted as rejected and logged.`;

export const command: Command = {
  name: 'jobs',
  summary: 'Load a job export into the job dimension (jobs load <file>)',
  help,
  async run(argv) {
    const json = argv.includes('--json');
    const args = argv.filter((a) => a !== '--json');
    const unknown = args.find((a) => a.startsWith('-'));
    if (unknown) throw new UsageError(`unknown option ${unknown}`);
    const [sub, file, ...extra] = args;
    if (sub !== 'load') throw new UsageError(sub ? `unknown sub-command "${sub}"` : 'missing sub-command');
    if (!file) throw new UsageError('missing <job.csv>');
    if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
    // Same check and exit code as `ingest`: a typo is bad usage, not a failed load.
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`no such file: ${path.resolve(file)}`);
    const pool = createMysqlPool(config().mysql);
    try {
      const summary = await loadJobsCore(pool, { path: file });
      output(json, summary, () =>
        [
          `jobs loaded from ${summary.file}`,
          `  rows read:            ${summary.rowsRead}`,
          `  upserted:             ${summary.upserted}`,
          `  rejected:             ${summary.rejected}`,
          `  warehouse rows fixed: ${summary.warehouseRowsFixed}`,
        ].join('\n'),
      );
      return EXIT.ok;
    } catch (err) {
      if (err instanceof Error && err.name === 'ApplicationFailure') {
        process.stderr.write(`trackflow jobs: ${err.message}\n`);
        return EXIT.failed;
      }
      return serviceErrorExit('jobs', err);
    } finally {
      await pool.end();
    }
  },
};
