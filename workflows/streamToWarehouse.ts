import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ConsumeCounts, ConsumeLeaseSummary, PartitionProgress } from '../activities/types';
import { TASK_QUEUES } from '../lib/taskQueues';
import { LEASE_MARGIN_MS } from './options';

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_MAX_LEASES_PER_RUN = 100;
/** Pause between leases after a failed one, so a broken dependency is not hammered. */
const FAILURE_BACKOFF_MS = 10_000;

export type StreamStateName = 'running' | 'paused' | 'draining' | 'drained';

/** What survives continue-as-new: the stream's totals since it was first started. */
export interface StreamCarry {
  since: string;
  leases: number;
  totals: ConsumeCounts;
  paused: boolean;
  lastLease?: LastLease;
  lastError?: LastError;
  runs: number;
}

export interface LastLease {
  endedAt: string;
  endReason: ConsumeLeaseSummary['endReason'];
  partitions: PartitionProgress[];
  durationMs: number;
}

export interface LastError {
  at: string;
  message: string;
}

export interface StreamToWarehouseInput {
  leaseMs?: number;
  maxLeasesPerRun?: number;
  /** Finish once a lease reports every partition caught up (tests, one-shot catch-up runs). */
  stopWhenCaughtUp?: boolean;
  /** Pause after a failed lease before the next one; default 10s. */
  failureBackoffMs?: number;
  /** Task queue of the stream worker; defaults to TASK_QUEUES.stream. */
  streamTaskQueue?: string;
  state?: StreamCarry;
}

export interface StreamStatus {
  state: StreamStateName;
  leases: number;
  leasesThisRun: number;
  runs: number;
  totals: ConsumeCounts;
  lastLease?: LastLease;
  lag?: number;
  lastError?: LastError;
  since: string;
}

export interface StreamResult {
  state: 'drained' | 'caught-up';
  leases: number;
  totals: ConsumeCounts;
  lastLease?: LastLease;
  lastError?: LastError;
  since: string;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const drainSignal = defineSignal('drain');
export const statusQuery = defineQuery<StreamStatus>('status');

export function zeroCounts(): ConsumeCounts {
  return { consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0, duplicates: 0, redelivered: 0, unknownJob: 0, batches: 0 };
}

function addCounts(into: ConsumeCounts, add: ConsumeCounts): void {
  for (const key of Object.keys(into) as Array<keyof ConsumeCounts>) into[key] += add[key] ?? 0;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/**
 * The Kafka-to-MySQL stream as a series of bounded leases, so progress, pausing and draining are
 * visible and controllable from Temporal instead of living inside one endless activity.
 */
export async function streamToWarehouse(input: StreamToWarehouseInput = {}): Promise<StreamResult> {
  const leaseMs = input.leaseMs ?? DEFAULT_LEASE_MS;
  const maxLeasesPerRun = Math.max(1, input.maxLeasesPerRun ?? DEFAULT_MAX_LEASES_PER_RUN);
  const { consumeLease } = proxyActivities<Activities>({
    taskQueue: input.streamTaskQueue ?? TASK_QUEUES.stream,
    startToCloseTimeout: leaseMs + LEASE_MARGIN_MS,
    heartbeatTimeout: '30s',
    // Drain cancels the lease; waiting lets the activity commit or roll back its in-flight batch first.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // No maximumAttempts: a lease is retried until it works; the failure shows on the pending activity meanwhile.
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });

  const carry: StreamCarry = input.state
    ? { ...input.state, totals: { ...zeroCounts(), ...input.state.totals }, runs: input.state.runs + 1 }
    : { since: new Date().toISOString(), leases: 0, totals: zeroCounts(), paused: false, runs: 1 };
  let draining = false;
  let finished = false;
  let leasesThisRun = 0;
  let lease: CancellationScope | undefined;

  const stateName = (): StreamStateName =>
    finished ? 'drained' : draining ? 'draining' : carry.paused ? 'paused' : 'running';
  setHandler(statusQuery, () => ({
    state: stateName(),
    leases: carry.leases,
    leasesThisRun,
    runs: carry.runs,
    totals: carry.totals,
    lastLease: carry.lastLease,
    lag: carry.lastLease ? carry.lastLease.partitions.reduce((sum, p) => sum + p.lag, 0) : undefined,
    lastError: carry.lastError,
    since: carry.since,
  }));
  setHandler(pauseSignal, () => {
    carry.paused = true;
  });
  setHandler(resumeSignal, () => {
    carry.paused = false;
  });
  setHandler(drainSignal, () => {
    draining = true;
    lease?.cancel();
  });

  const result = (state: StreamResult['state']): StreamResult => {
    finished = true;
    return {
      state,
      leases: carry.leases,
      totals: carry.totals,
      lastLease: carry.lastLease,
      lastError: carry.lastError,
      since: carry.since,
    };
  };

  for (;;) {
    // A pause holds between leases; the one in flight finishes its lease normally.
    await condition(() => draining || !carry.paused);
    if (draining) return result('drained');
    if (leasesThisRun >= maxLeasesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof streamToWarehouse>({ ...input, state: carry });
    }

    const scope = new CancellationScope();
    lease = scope;
    try {
      const summary = await scope.run(() => consumeLease({ leaseMs, stopWhenCaughtUp: input.stopWhenCaughtUp }));
      carry.leases += 1;
      leasesThisRun += 1;
      addCounts(carry.totals, summary.counts);
      carry.lastLease = {
        endedAt: new Date().toISOString(),
        endReason: summary.endReason,
        partitions: summary.partitions,
        durationMs: summary.durationMs,
      };
      if (summary.lastError) carry.lastError = { at: new Date().toISOString(), message: summary.lastError };
      if (input.stopWhenCaughtUp && summary.endReason === 'caught-up') return result('caught-up');
    } catch (err) {
      if (isCancellation(err)) {
        if (draining) return result('drained');
        throw err; // the workflow itself was cancelled (`trackflow stream stop`)
      }
      carry.lastError = { at: new Date().toISOString(), message: errorMessage(err) };
      log.warn('Lease failed; retrying after a pause', { error: carry.lastError.message });
      await condition(() => draining, input.failureBackoffMs ?? FAILURE_BACKOFF_MS);
    } finally {
      lease = undefined;
    }
  }
}
