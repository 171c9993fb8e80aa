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

type Outcome = 'ok' | 'retry' | 'failed' | 'cancelled';

function outcomeOf(err: unknown): Outcome {
  if (err instanceof CancelledFailure) return 'cancelled';
  return isFinalFailure(err) ? 'failed' : 'retry';
}

/**
 * Counts and times activity outcomes without touching the activities: every attempt's duration, files
 * ingested or failed for good (and how long their last attempt took), and attempts that failed and will be
 * retried (a cancellation is neither).
 */
export function activityMetricsInterceptor(metrics: Metrics): ActivityInterceptorsFactory {
  return (ctx: ActivityContext) => ({
    inbound: {
      async execute(input, next) {
        const type = ctx.info.activityType;
        const kind = FILE_ACTIVITIES[type];
        const started = performance.now();
        const finish = (outcome: Outcome) => {
          const seconds = (performance.now() - started) / 1000;
          metrics.observe('trackflow_activity_duration_seconds', seconds, { activity: type, result: outcome });
          if (outcome === 'retry') metrics.inc('trackflow_activity_retries_total', '', 1, { activity: type });
          if (kind && (outcome === 'ok' || outcome === 'failed')) {
            metrics.inc('trackflow_ingest_files_total', '', 1, { kind, result: outcome });
            metrics.observe('trackflow_ingest_file_seconds', seconds, { kind, result: outcome });
          }
        };
        try {
          const result = await next(input);
          finish('ok');
          return result;
        } catch (err) {
          finish(outcomeOf(err));
          throw err;
        }
      },
    },
  });
}
