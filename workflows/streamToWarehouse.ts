import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ConsumeCounts, ConsumeLeaseSummary, PartitionProgress } from '../activities/types';
import { TASK_QUEUES } from '../lib/taskQueues';
import { LEASE_MARGIN_MS } from './options';
import { addCounts, newConsumerStatus, runSlot, sumLag } from './streamSlots';
import type { ConsumerStatus, LastError, SlotHost } from './streamSlots';

export type { ConsumerStatus, LastError } from './streamSlots';

/** patched() marker: C consumer slots lease in parallel (before it, one lease at a time over every partition). */
export const PATCH_PARALLEL_CONSUMERS = 'stream-parallel-consumers';
/** Upper bound on a scale request; more slots than partitions only idle. */
export const MAX_CONSUMERS = 256;

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
  /** The consumer count in force (from the input, then `scale` signals). */
  consumers?: number;
  consumerStatus?: ConsumerStatus[];
}

export interface LastLease {
  endedAt: string;
  endReason: ConsumeLeaseSummary['endReason'];
  partitions: PartitionProgress[];
  durationMs: number;
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
  /** Consumers leasing at once, each owning the partitions p mod C = i; default 1 (the CLI sends its default). */
  consumers?: number;
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
  /** Consumer count in force and each slot's partitions, offsets, lag, worker and last error. */
  consumers?: number;
  consumerStatus?: ConsumerStatus[];
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
/** Change the consumer count of a running stream: the slots' leases are cancelled (cleanly) and C new ones start. */
export const scaleSignal = defineSignal<[number]>('scale');

export function zeroCounts(): ConsumeCounts {
  return { consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0, duplicates: 0, redelivered: 0, unknownJob: 0, batches: 0 };
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

type ConsumeLease = (input: Parameters<Activities['consumeLease']>[0]) => ReturnType<Activities['consumeLease']>;

/** The workflow's mutable state, shared by the signal handlers and both lease loops. */
interface StreamRun {
  input: StreamToWarehouseInput;
  leaseMs: number;
  maxLeasesPerRun: number;
  consumeLease: ConsumeLease;
  carry: StreamCarry;
  draining: boolean;
  finished: boolean;
  leasesThisRun: number;
  parallel: boolean;
  lease?: CancellationScope;
  scopes: Set<CancellationScope>;
}

function stateName(run: StreamRun): StreamStateName {
  return run.finished ? 'drained' : run.draining ? 'draining' : run.carry.paused ? 'paused' : 'running';
}

function currentSlots(run: StreamRun): ConsumerStatus[] {
  const count = run.carry.consumers ?? 1;
  return (run.carry.consumerStatus ?? []).filter((c) => c.of === count);
}

function statusOf(run: StreamRun): StreamStatus {
  const { carry } = run;
  const lastLeaseLag = carry.lastLease ? carry.lastLease.partitions.reduce((sum, p) => sum + p.lag, 0) : undefined;
  const slots = currentSlots(run);
  return {
    state: stateName(run),
    leases: carry.leases,
    leasesThisRun: run.leasesThisRun,
    runs: carry.runs,
    totals: carry.totals,
    lastLease: carry.lastLease,
    lag: run.parallel && slots.length ? sumLag(slots) : lastLeaseLag,
    lastError: carry.lastError,
    since: carry.since,
    ...(run.parallel ? { consumers: carry.consumers, consumerStatus: slots } : {}),
  };
}

function setHandlers(run: StreamRun): void {
  setHandler(statusQuery, () => statusOf(run));
  setHandler(pauseSignal, () => {
    run.carry.paused = true;
  });
  setHandler(resumeSignal, () => {
    run.carry.paused = false;
  });
  setHandler(drainSignal, () => {
    run.draining = true;
    run.lease?.cancel();
    for (const scope of run.scopes) scope.cancel();
  });
  setHandler(scaleSignal, (consumers: number) => {
    // A signal cannot be refused: an impossible count is logged and ignored (the CLI validates it first).
    if (!Number.isInteger(consumers) || consumers < 1 || consumers > MAX_CONSUMERS) {
      log.warn('scale ignored: consumers must be an integer from 1 to ' + MAX_CONSUMERS, { consumers });
      return;
    }
    if (consumers === run.carry.consumers) return;
    run.carry.consumers = consumers;
    for (const scope of run.scopes) scope.cancel();
  });
}

function result(run: StreamRun, state: StreamResult['state']): StreamResult {
  run.finished = true;
  const { carry } = run;
  return { state, leases: carry.leases, totals: carry.totals, lastLease: carry.lastLease, lastError: carry.lastError, since: carry.since };
}

function noteLease(run: StreamRun, summary: ConsumeLeaseSummary): void {
  const { carry } = run;
  carry.leases += 1;
  run.leasesThisRun += 1;
  addCounts(carry.totals, summary.counts);
  carry.lastLease = { endedAt: new Date().toISOString(), endReason: summary.endReason, partitions: summary.partitions, durationMs: summary.durationMs };
  if (summary.lastError) carry.lastError = { at: new Date().toISOString(), message: summary.lastError };
}

/**
 * The Kafka-to-MySQL stream as a series of bounded leases, so progress, pausing and draining are
 * visible and controllable from Temporal instead of living inside one endless activity. C consumer slots
 * lease at once (workflows/streamSlots.ts); runs recorded before that lease one at a time (legacyLoop).
 */
export async function streamToWarehouse(input: StreamToWarehouseInput = {}): Promise<StreamResult> {
  const leaseMs = input.leaseMs ?? DEFAULT_LEASE_MS;
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
  const run: StreamRun = {
    input, leaseMs, maxLeasesPerRun: Math.max(1, input.maxLeasesPerRun ?? DEFAULT_MAX_LEASES_PER_RUN), consumeLease, carry,
    draining: false, finished: false, leasesThisRun: 0, parallel: false, scopes: new Set(),
  };
  setHandlers(run);
  run.parallel = patched(PATCH_PARALLEL_CONSUMERS);
  if (!run.parallel) return legacyLoop(run);
  carry.consumers ??= Math.min(MAX_CONSUMERS, Math.max(1, Math.floor(input.consumers ?? 1)));
  return parallelLoop(run);
}

function slotHost(run: StreamRun): SlotHost {
  return {
    leaseMs: run.leaseMs,
    stopWhenCaughtUp: run.input.stopWhenCaughtUp,
    failureBackoffMs: run.input.failureBackoffMs ?? FAILURE_BACKOFF_MS,
    maxLeasesPerRun: run.maxLeasesPerRun,
    consumeLease: run.consumeLease,
    consumers: () => run.carry.consumers ?? 1,
    draining: () => run.draining,
    paused: () => run.carry.paused,
    leasesThisRun: () => run.leasesThisRun,
    scopes: run.scopes,
    onLease: (summary) => {
      noteLease(run, summary);
      upsertMemo({ consumers: run.carry.consumers, consumerStatus: memoSlots(currentSlots(run)) });
    },
    onError: (message) => {
      run.carry.lastError = { at: new Date().toISOString(), message };
    },
  };
}

/** The memo the Web UI shows: per slot its partitions, lag and worker (offsets stay in the query). */
function memoSlots(slots: ConsumerStatus[]): Array<Record<string, unknown>> {
  return slots.map((c) => ({ index: c.index, of: c.of, partitions: c.partitions, lag: c.lag, worker: c.worker, lastError: c.lastError?.message }));
}

/** Rounds of C parallel slots; a round ends on pause, drain, scale, a full run or (stopWhenCaughtUp) all caught up. */
async function parallelLoop(run: StreamRun): Promise<StreamResult> {
  const { carry } = run;
  const host = slotHost(run);
  for (;;) {
    await condition(() => run.draining || !carry.paused);
    if (run.draining) return result(run, 'drained');
    if (run.leasesThisRun >= run.maxLeasesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof streamToWarehouse>({ ...run.input, state: carry });
    }
    const count = carry.consumers ?? 1;
    const previous = carry.consumerStatus ?? [];
    const slots = Array.from({ length: count }, (_, i) => newConsumerStatus(i, count, previous.find((p) => p.index === i && p.of === count)));
    carry.consumerStatus = slots;
    const outcomes = await Promise.all(slots.map((slot) => runSlot(host, slot, count)));
    if (run.draining) return result(run, 'drained');
    if (run.input.stopWhenCaughtUp && outcomes.every((o) => o === 'caught-up')) return result(run, 'caught-up');
  }
}

/** One lease at a time over every partition: the loop of runs recorded before PATCH_PARALLEL_CONSUMERS. */
async function legacyLoop(run: StreamRun): Promise<StreamResult> {
  const { carry, input } = run;
  for (;;) {
    // A pause holds between leases; the one in flight finishes its lease normally.
    await condition(() => run.draining || !carry.paused);
    if (run.draining) return result(run, 'drained');
    if (run.leasesThisRun >= run.maxLeasesPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof streamToWarehouse>({ ...input, state: carry });
    }

    const scope = new CancellationScope();
    run.lease = scope;
    try {
      const summary = await scope.run(() => run.consumeLease({ leaseMs: run.leaseMs, stopWhenCaughtUp: input.stopWhenCaughtUp }));
      noteLease(run, summary);
      if (input.stopWhenCaughtUp && summary.endReason === 'caught-up') return result(run, 'caught-up');
    } catch (err) {
      if (isCancellation(err)) {
        if (run.draining) return result(run, 'drained');
        throw err; // the workflow itself was cancelled (`trackflow stream stop`)
      }
      carry.lastError = { at: new Date().toISOString(), message: errorMessage(err) };
      log.warn('Lease failed; retrying after a pause', { error: carry.lastError.message });
      await condition(() => run.draining, input.failureBackoffMs ?? FAILURE_BACKOFF_MS);
    } finally {
      run.lease = undefined;
    }
  }
}
