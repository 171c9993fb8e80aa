import { Context } from '@temporalio/activity';
import { runConsumeLease } from '../lib/stream/consumer';
import type { ActivityDeps } from './deps';
import type { ConsumeLeaseInput, ConsumeLeaseSummary } from './types';

/** The Temporal activity context, or undefined when called directly (tests, CLI). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function createConsumeActivities(deps: ActivityDeps) {
  return {
    /**
     * One lease of the Kafka -> MySQL consumer (lib/stream/consumer.ts). Heartbeats carry per-partition
     * progress and lag; cancellation stops fetching and returns with endReason 'cancelled'.
     */
    async consumeLease(input: ConsumeLeaseInput): Promise<ConsumeLeaseSummary> {
      const ctx = activityContext();
      return runConsumeLease(deps, {
        leaseMs: input.leaseMs,
        stopWhenCaughtUp: input.stopWhenCaughtUp,
        heartbeat: ctx ? (details) => ctx.heartbeat(details) : undefined,
        signal: ctx?.cancellationSignal,
        log: ctx ? (msg, fields) => ctx.log.info(msg, fields) : undefined,
      });
    },
  };
}
