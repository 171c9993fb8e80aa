import { currentActivityContext } from '../lib/temporal/activityContext';
import type { ActivityDeps } from './deps';
import type { LoadJobsInput, LoadJobsSummary } from './types';
import { loadJobsCore } from '../lib/ingest/jobCatalogueLoader';
import { confineInputPath } from '../lib/security/paths';

export function createJobActivities(deps: ActivityDeps) {
  return {
    async loadJobs(input: LoadJobsInput): Promise<LoadJobsSummary> {
      confineInputPath(input.path, deps.config.inputDirs);
      const ctx = currentActivityContext();
      const summary = await loadJobsCore(deps.mysql, input, {
        limits: deps.config.ingest,
        onProgress: (rowsRead) => ctx?.heartbeat({ rowsRead }),
        log: (msg, fields) => (ctx ? ctx.log.warn(msg, fields) : process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...fields })}\n`)),
      });
      deps.metrics.inc('trackflow_jobs_rows_total', 'Job export rows handled, by result', summary.upserted, { result: 'upserted' });
      deps.metrics.inc('trackflow_jobs_rows_total', 'Job export rows handled, by result', summary.rejected, { result: 'rejected' });
      return summary;
    },
  };
}
