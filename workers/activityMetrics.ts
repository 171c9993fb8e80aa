import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Metrics } from '../lib/metrics';

const FILE_ACTIVITIES: Record<string, 'tracking' | 'job'> = { ingestFile: 'tracking', loadJobs: 'job' };

/**
 * A failure Temporal will not retry: the activity's file has failed for good. `nonRetryableTypes` is the list
 * the workflows' retry policies name, passed in so the two cannot disagree.
 */
export function isFinalFailure(err: unknown, nonRetryableTypes: readonly string[]): boolean {
  return err instanceof ApplicationFailure && (err.nonRetryable || (err.type !== undefined && err.type !== null && nonRetryableTypes.includes(err.type)));
}

/**
 * Counts activity outcomes without touching the activities: files ingested or failed for good, and attempts
 * that failed and will be retried (a cancellation is neither). `nonRetryableTypes`: see isFinalFailure.
 */
export function activityMetricsInterceptor(metrics: Metrics, nonRetryableTypes: readonly string[]): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const type = ctx.info.activityType;
        const kind = FILE_ACTIVITIES[type];
        try {
          const result = await next(input);
          if (kind) metrics.inc('trackflow_ingest_files_total', '', 1, { kind, result: 'ok' });
          return result;
        } catch (err) {
          if (!(err instanceof CancelledFailure)) {
            if (isFinalFailure(err, nonRetryableTypes)) {
              if (kind) metrics.inc('trackflow_ingest_files_total', '', 1, { kind, result: 'failed' });
            } else metrics.inc('trackflow_activity_retries_total', '', 1, { activity: type });
          }
          throw err;
        }
      },
    },
  });
}
