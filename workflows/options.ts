import type { ActivityOptions } from '@temporalio/workflow';

import { IngestFilesFailed, NON_RETRYABLE_CODES } from '../lib/domain/errors';

/**
 * Error types an activity may throw that retrying cannot fix (a malformed export, a bad config): the classes
 * of lib/domain/errors.ts marked non-retryable. An activity can also throw `ApplicationFailure.nonRetryable(...)`,
 * which is honoured whatever its type.
 */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [...NON_RETRYABLE_CODES];

/** The ApplicationFailure type of an ingest run that ended with failed files; its details hold the run's result. */
export const FAILED_FILES_ERROR = IngestFilesFailed.code;

/** Big exports take a while; the heartbeat, not startToClose, is what notices a dead worker. */
export const INGEST_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '30s',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

export const DISCOVER_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
};

export const PUBLISH_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
};

export const LOAD_JOBS_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
};

/** Slack on top of the lease so a lease that runs slightly long while committing its last batch is not killed. */
export const LEASE_MARGIN_MS = 2 * 60_000;

/** One chunk of hours of verify or rebuild; the heartbeat notices a dead worker, the retry resumes the chunk. */
export const VERIFY_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '2h',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
};
