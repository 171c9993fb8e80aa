import { currentActivityContext } from '../lib/temporal/activityContext';
import type { ActivityDeps } from './deps';
import type { DiscoverFilesInput, DiscoverFilesResult, IngestFileInput, IngestSummary } from './types';
import { discoverFilesCore } from '../lib/ingest/discover';
import { ingestFileCore, type IngestProgress } from '../lib/ingest/ingest';
import { confineInputPath } from '../lib/security/paths';
import { faultForAttempt } from '../lib/faults';

function isProgress(value: unknown): value is IngestProgress {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['ingestBatch'] === 'string' &&
    ['line', 'rowsRead', 'written', 'alreadyPresent', 'rejected'].every((k) => typeof v[k] === 'number')
  );
}

export function createIngestActivities(deps: ActivityDeps) {
  return {
    async discoverFiles(input: DiscoverFilesInput): Promise<DiscoverFilesResult> {
      const ctx = currentActivityContext();
      confineInputPath(input.landingDir, deps.config.inputDirs, 'directory');
      return discoverFilesCore(deps.cassandra, deps.config.cassandra.keyspace, input.landingDir, () => ctx?.heartbeat());
    },

    async ingestFile(input: IngestFileInput): Promise<IngestSummary> {
      confineInputPath(input.path, deps.config.inputDirs);
      const ctx = currentActivityContext();
      const details: unknown = ctx?.info.heartbeatDetails;
      const resumeFrom = isProgress(details) ? details : undefined;
      return ingestFileCore(
        { cassandra: deps.cassandra, keyspace: deps.config.cassandra.keyspace, metrics: deps.metrics },
        input,
        {
          resumeFrom,
          limits: deps.config.ingest,
          onProgress: (p) => ctx?.heartbeat(p),
          keepAlive: (p) => ctx?.heartbeat(p ?? resumeFrom),
          warn: (message) => ctx?.log.warn(message),
          fault: faultForAttempt(deps.faults, ctx?.info.attempt ?? 1),
          // Retries of this run's activity hold the same claim; another run waits for it (lib/ingest/claim.ts).
          claimOwner: ctx?.info.workflowExecution ? `wf:${ctx.info.workflowExecution.workflowId}` : undefined,
        },
      );
    },
  };
}
