import { currentActivityContext } from '../lib/temporal/activityContext';
import type { ActivityDeps } from './deps';
import type { PublishInput, PublishSummary } from './types';
import { publishPendingCore } from '../lib/publish/publisher';
import { faultEnv } from '../lib/config';

/** Test-only fault injection: SIGKILL the worker after N acknowledged pages, before their progress is recorded. */
function killAfterPagesFromEnv(): number | undefined {
  const faults = faultEnv();
  if (!faults.TRACKFLOW_FAULTS) return undefined;
  const n = faults.TRACKFLOW_FAULT_PUBLISH_KILL_AFTER_PAGES;
  return n && n > 0 ? n : undefined;
}

export function createPublishActivities(deps: ActivityDeps) {
  return {
    /**
     * Publishes unpublished lake events. The authoritative position is the progress row in Cassandra
     * (written after each acknowledged page); heartbeat details mirror it for the Web UI.
     */
    async publishPending(input: PublishInput): Promise<PublishSummary> {
      const ctx = currentActivityContext();
      const killAfter = ctx && ctx.info.attempt === 1 ? killAfterPagesFromEnv() : undefined;
      return publishPendingCore(
        {
          cassandra: deps.cassandra,
          kafka: deps.kafka,
          keyspace: deps.config.cassandra.keyspace,
          topic: deps.config.kafka.topic,
          partitions: deps.config.kafka.partitions,
          metrics: deps.metrics,
        },
        {
          maxEvents: input.maxEvents,
          share: input.share,
          onProgress: (p) => ctx?.heartbeat(p),
          log: (msg, fields) => ctx?.log.info(msg, fields),
          afterSend:
            killAfter === undefined
              ? undefined
              : (pages) => {
                  if (pages >= killAfter) process.kill(process.pid, 'SIGKILL');
                },
        },
      );
    },
  };
}
