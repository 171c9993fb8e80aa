import { currentActivityContext } from '../lib/temporal/activityContext';
import type { ActivityDeps } from './deps';
import type { PublishInput, PublishSummary } from './types';
import { publishPendingCore } from '../lib/publish/publisher';
import { faultForAttempt } from '../lib/faults';

export function createPublishActivities(deps: ActivityDeps) {
  return {
    /**
     * Publishes unpublished lake events. The authoritative position is the progress row in Cassandra
     * (written after each acknowledged page); heartbeat details mirror it for the Web UI.
     */
    async publishPending(input: PublishInput): Promise<PublishSummary> {
      const ctx = currentActivityContext();
      return publishPendingCore(
        {
          cassandra: deps.cassandra,
          kafka: deps.kafka,
          keyspace: deps.config.cassandra.keyspace,
          topic: deps.config.kafka.topic,
          partitions: deps.config.kafka.partitions,
          compression: deps.config.kafka.compression,
          messageVersion: deps.config.kafka.messageVersion,
          metrics: deps.metrics,
        },
        {
          maxEvents: input.maxEvents,
          share: input.share,
          onProgress: (p) => ctx?.heartbeat(p),
          // A send riding out a broker outage heartbeats too: without it the 30 s heartbeat timeout would start
          // a second attempt beside the first, and both would publish the same pages.
          keepAlive: (p) => ctx?.heartbeat(p),
          signal: ctx?.cancellationSignal,
          log: (msg, fields) => ctx?.log.info(msg, fields),
          fault: faultForAttempt(deps.faults, ctx?.info.attempt ?? 1),
        },
      );
    },
  };
}
