import { currentActivityContext } from '../lib/temporal/activityContext';
import { faultForAttempt } from '../lib/faults';
import { runConsumeLease } from '../lib/stream/consumer';
import type { ActivityDeps } from './deps';
import type { ConsumeLeaseInput, ConsumeLeaseSummary } from './types';

export function createConsumeActivities(deps: ActivityDeps) {
  return {
    /**
     * One lease of the Kafka -> MySQL consumer (lib/stream/consumer.ts). Heartbeats carry per-partition
     * progress and lag; cancellation stops fetching and returns with endReason 'cancelled'.
     */
    async consumeLease(input: ConsumeLeaseInput): Promise<ConsumeLeaseSummary> {
      const ctx = currentActivityContext();
      const summary = await runConsumeLease(deps, {
        leaseMs: input.leaseMs,
        stopWhenCaughtUp: input.stopWhenCaughtUp,
        consumer: input.consumer,
        heartbeat: ctx ? (details) => ctx.heartbeat(details) : undefined,
        signal: ctx?.cancellationSignal,
        log: ctx ? (msg, fields) => ctx.log.info(msg, fields) : undefined,
        fault: faultForAttempt(deps.faults, ctx?.info.attempt ?? 1),
      });
      deps.metrics.observe('trackflow_stream_lease_seconds', summary.durationMs / 1000);
      return summary;
    },
  };
}
