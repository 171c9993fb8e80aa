import type { Context as ActivityContext } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Metrics } from '../lib/metrics';
import { isRetryable } from '../lib/domain/errors';

const FILE_ACTIVITIES: Record<string, 'tracking' | 'job'> = { ingestFile: 'tracking', loadJobs: 'job' };

/** A failure Temporal will not retry: the activity's file has failed for good. */
export function isFinalFailure(err: unknown): boolean {
  return !isRetryable(err);
}

/**
 * Counts activity outcomes without touching the activities: files ingested or failed for good, and attempts
 * that failed and will be retried (a cancellation is neither).
 */
export function activityMetricsInterceptor(metrics: Metrics): ActivityInterceptorsFactory {
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
            if (isFinalFailure(err)) {
              if (kind) metrics.inc('trackflow_ingest_files_total', '', 1, { kind, result: 'failed' });
            } else metrics.inc('trackflow_activity_retries_total', '', 1, { activity: type });
          }
          throw err;
        }
      },
    },
  });
}
