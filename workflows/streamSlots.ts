import { CancellationScope, condition, isCancellation, log, workflowInfo } from '@temporalio/workflow';
import type { ConsumeLeaseInput, ConsumeLeaseSummary, ConsumeCounts, PartitionProgress } from '../activities/types';

export interface LastError {
  at: string;
  message: string;
}

/** One consumer slot as the status query, the memo and `trackflow stream status` show it. */
export interface ConsumerStatus {
  index: number;
  /** The consumer count this slot belongs to; a slot of an older count is gone after a scale. */
  of: number;
  state: 'leasing' | 'backing-off' | 'caught-up' | 'stopped';
  leases: number;
  /** Partitions the slot owns (p mod of = index), from its last finished lease. */
  partitions: number[];
  offsets: PartitionProgress[];
  lag?: number;
  /** `host:pid` of the stream worker that ran its last finished lease. */
  worker?: string;
  lastError?: LastError;
  lastLeaseEndedAt?: string;
}

/** What the slot loops share with the workflow: its signals' effects and the leases' accounting. */
export interface SlotHost {
  leaseMs: number;
  stopWhenCaughtUp?: boolean;
  failureBackoffMs: number;
  maxLeasesPerRun: number;
  consumeLease(input: ConsumeLeaseInput): Promise<ConsumeLeaseSummary>;
  /** Current wanted count; a slot of another count stops after (or, cancelled, during) its lease. */
  consumers(): number;
  draining(): boolean;
  paused(): boolean;
  leasesThisRun(): number;
  /** Scopes of the leases in flight, so drain and scale can cancel them. */
  scopes: Set<CancellationScope>;
  onLease(summary: ConsumeLeaseSummary, status: ConsumerStatus): void;
  onError(message: string, status: ConsumerStatus): void;
}

export type SlotOutcome = 'caught-up' | 'stopped';

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

export function newConsumerStatus(index: number, of: number, previous?: ConsumerStatus): ConsumerStatus {
  if (previous && previous.of === of && previous.index === index) return { ...previous, state: 'leasing' };
  return { index, of, state: 'leasing', leases: 0, partitions: [], offsets: [] };
}

/** Whether a slot loop of count `count` must end before starting another lease. */
function mustStop(host: SlotHost, count: number): boolean {
  return host.draining() || host.paused() || host.consumers() !== count ||
    host.leasesThisRun() >= host.maxLeasesPerRun || workflowInfo().continueAsNewSuggested;
}

function record(status: ConsumerStatus, summary: ConsumeLeaseSummary): void {
  status.leases += 1;
  status.lastLeaseEndedAt = new Date().toISOString();
  status.offsets = summary.partitions;
  status.partitions = summary.consumer?.partitions ?? summary.partitions.map((p) => p.partition);
  status.lag = summary.lag;
  status.worker = summary.consumer?.worker ?? status.worker;
  if (summary.lastError) status.lastError = { at: new Date().toISOString(), message: summary.lastError };
}

/**
 * Consumer slot `status.index` of `count`: leases one after another on the stream task queue (whichever
 * stream worker polls first runs each one) until drained, paused, re-scaled, the run is full, or, with
 * stopWhenCaughtUp, its partitions are caught up.
 */
export async function runSlot(host: SlotHost, status: ConsumerStatus, count: number): Promise<SlotOutcome> {
  for (;;) {
    if (mustStop(host, count)) {
      status.state = 'stopped';
      return 'stopped';
    }
    status.state = 'leasing';
    const scope = new CancellationScope();
    host.scopes.add(scope);
    try {
      const summary = await scope.run(() =>
        host.consumeLease({ leaseMs: host.leaseMs, stopWhenCaughtUp: host.stopWhenCaughtUp, consumer: { index: status.index, count } }),
      );
      record(status, summary);
      host.onLease(summary, status);
      if (host.stopWhenCaughtUp && summary.endReason === 'caught-up') {
        status.state = 'caught-up';
        return 'caught-up';
      }
    } catch (err) {
      if (isCancellation(err)) {
        // Cancelled by drain or scale: the slot ends; otherwise the workflow itself was cancelled.
        if (host.draining() || host.consumers() !== count) {
          status.state = 'stopped';
          return 'stopped';
        }
        throw err;
      }
      const message = errorMessage(err);
      status.lastError = { at: new Date().toISOString(), message };
      status.state = 'backing-off';
      host.onError(message, status);
      log.warn('Lease failed; retrying after a pause', { consumer: status.index, of: count, error: message });
      await condition(() => host.draining() || host.consumers() !== count, host.failureBackoffMs);
    } finally {
      host.scopes.delete(scope);
    }
  }
}

export function sumLag(statuses: ConsumerStatus[]): number | undefined {
  if (statuses.some((s) => s.lag === undefined)) return undefined;
  return statuses.reduce((sum, s) => sum + (s.lag ?? 0), 0);
}

export function addCounts(into: ConsumeCounts, add: ConsumeCounts): void {
  for (const key of Object.keys(into) as Array<keyof ConsumeCounts>) into[key] += add[key] ?? 0;
}
