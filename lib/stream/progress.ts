import os from 'node:os';
import type { Admin } from 'kafkajs';
import type { ConsumerIdentity, ConsumerSlot, PartitionProgress } from './leaseSummary';
import type { Metrics } from '../metrics';
import { refreshEarliest } from './assignment';
import { readStoredOffsets } from './commit';
import type { Lease, LeaseState, TopicProgress } from './lease';
import { ownsPartition } from './slice';
import { stallStatus } from './stall';

/** `host:pid` of this worker process, shown per consumer in the stream status. */
export function workerIdentity(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** Each partition's stored position and lag: from the topic's offsets and MySQL's (a partition without one starts at its low). */
export function topicProgress(offsets: Array<{ partition: number; high: string; low: string }>, stored: Map<number, string>): TopicProgress {
  const partitions = offsets
    .map((o) => {
      const next = stored.get(o.partition) ?? o.low;
      return { partition: o.partition, nextOffset: next, lag: Math.max(0, Number(BigInt(o.high) - BigInt(next))) };
    })
    .sort((x, y) => x.partition - y.partition);
  return { partitions, lag: partitions.reduce((s, p) => s + p.lag, 0) };
}

/** The slot's share of the topic-wide progress: its partitions and their lag. */
export function ownProgress(progress: TopicProgress, slot?: ConsumerSlot): TopicProgress {
  if (!slot) return progress;
  const partitions = progress.partitions.filter((p) => ownsPartition(slot, p.partition));
  return { partitions, lag: partitions.reduce((s, p) => s + p.lag, 0) };
}

/**
 * The partitions this lease answers for: a slot's own; without a slot, those the group assigned it once it
 * joined (every partition before that).
 */
export function leasePartitions(progress: TopicProgress, slot: ConsumerSlot | undefined, state: Pick<LeaseState, 'joined' | 'assigned'>): PartitionProgress[] {
  const owned = ownProgress(progress, slot).partitions;
  return !slot && state.joined && state.assigned.length ? owned.filter((p) => state.assigned.includes(p.partition)) : owned;
}

/** Whether every partition of the lease has no lag (and the topic's offsets were read at all). */
export function caughtUp(progress: TopicProgress, slot: ConsumerSlot | undefined, state: Pick<LeaseState, 'joined' | 'assigned'>): boolean {
  return progress.partitions.length > 0 && leasePartitions(progress, slot, state).every((x) => x.lag === 0);
}

/** Reads the lease's progress and publishes it as the lag gauges. */
export async function refreshProgress(lease: Lease, admin: Admin): Promise<TopicProgress> {
  const offsets = await refreshEarliest(lease, admin);
  const stored = await readStoredOffsets(lease.ctx.mysql, lease.ctx.group, lease.ctx.topic);
  lease.state.progress = topicProgress(offsets, stored);
  setLagMetrics(lease.ctx.metrics, lease.state.progress, lease.ctx.slot);
  return lease.state.progress;
}

/** Total and per-partition lag, the series an operator alerts on (docs/metrics.md); a slot sets only its partitions. */
function setLagMetrics(metrics: Metrics, progress: TopicProgress, slot?: ConsumerSlot): void {
  metrics.set('trackflow_stream_lag', '', progress.lag);
  for (const p of progress.partitions) {
    if (ownsPartition(slot, p.partition)) metrics.set('trackflow_stream_partition_lag_messages', '', p.lag, { partition: String(p.partition) });
  }
}

/** Flags the partitions of this lease that have lag and an offset that does not move (gauge and log line). */
export function observeStalls(lease: Lease, now: number): void {
  const { state, ctx } = lease;
  const owned = ownProgress(state.progress, ctx.slot).partitions;
  state.stalled = state.stallWatch.observe(leasePartitions(state.progress, ctx.slot, state), now);
  const flagged = new Set(state.stalled.map((x) => x.partition));
  for (const p of owned) {
    ctx.metrics.set('trackflow_stream_partition_stalled', 'Partition with lag whose stored offset has not moved for stallMs (1) or not (0)',
      flagged.has(p.partition) ? 1 : 0, { partition: String(p.partition) });
  }
  const key = [...flagged].join(',');
  if (key && key !== state.stalledKey) ctx.log('partition stalled', { status: stallStatus(state.stalled), lastError: state.lastError });
  state.stalledKey = key;
}

/** Who ran a slot's lease and what it owned; undefined for the single consumer. */
export function consumerIdentity(slot: ConsumerSlot | undefined, own: PartitionProgress[]): ConsumerIdentity | undefined {
  return slot ? { index: slot.index, count: slot.count, worker: workerIdentity(), partitions: own.map((p) => p.partition) } : undefined;
}

/** The Temporal heartbeat details of a lease: its partitions, counts, lag and stall status. */
export function heartbeatDetails(state: LeaseState, slot: ConsumerSlot | undefined): Record<string, unknown> {
  const own = ownProgress(state.progress, slot);
  return {
    partitions: own.partitions, counts: { ...state.counts }, lag: own.lag, stalled: state.stalled, status: stallStatus(state.stalled),
    ...(slot ? { consumer: consumerIdentity(slot, own.partitions), lastError: state.lastError } : {}),
  };
}
