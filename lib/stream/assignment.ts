import type { Admin, Batch, Consumer } from 'kafkajs';
import { readStoredOffset } from './commit';
import type { Lease } from './lease';
import { noteError, retryScope } from './lease';
import { retryUntilStopped } from './retry';

/**
 * Assignment and seek: MySQL holds the offsets, so every partition a generation hands this lease is
 * positioned at its stored offset before any of its messages is committed.
 */

/** Reads the topic's offsets and remembers each partition's earliest retained one. */
export async function refreshEarliest(lease: Lease, admin: Admin): Promise<Array<{ partition: number; high: string; low: string }>> {
  const offsets = await admin.fetchTopicOffsets(lease.ctx.topic);
  for (const o of offsets) lease.state.earliest.set(o.partition, o.low);
  return offsets.map((o) => ({ partition: o.partition, high: o.high, low: o.low }));
}

/** Where a partition resumes: its stored offset, or its earliest retained offset when none is stored. */
export async function startOffset(lease: Lease, partition: number): Promise<string> {
  const { mysql, group, topic } = lease.ctx;
  const stored = await readStoredOffset(mysql, { group, topic, partition });
  if (stored !== null) return stored;
  const admin = lease.state.clients.admin;
  if (!lease.state.earliest.has(partition) && admin) await refreshEarliest(lease, admin);
  return lease.state.earliest.get(partition) ?? '0';
}

/** The offset a kafkajs batch was fetched from (the patched `fetchedOffset`, else its first message). */
export function fetchedOffset(batch: Batch): string {
  return String((batch as Batch & { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset());
}

/** The partitions a GROUP_JOIN payload assigns on `topic`, ascending. */
export function assignedPartitions(memberAssignment: Record<string, number[] | undefined>, topic: string): number[] {
  return [...(memberAssignment[topic] ?? [])].sort((x, y) => x - y);
}

/**
 * A new generation: records the assignment, then positions every assigned partition at its MySQL offset,
 * unless its first batch of this generation already did (positionBatch). Runs in the background of the join.
 */
export function onGroupJoin(lease: Lease, consumer: Consumer, assigned: number[]): void {
  const { state, ctx } = lease;
  state.generation += 1;
  state.joined = true;
  state.assigned = assigned;
  const gen = state.generation;
  ctx.log('joined group', { generation: gen, assigned });
  void (async () => {
    for (const partition of assigned) {
      try {
        const offset = await startOffset(lease, partition);
        if (state.generation === gen && state.verified.get(partition) !== gen) consumer.seek({ topic: ctx.topic, partition, offset });
      } catch (err) {
        noteError(lease, 'seek', err);
      }
    }
  })();
}

/**
 * The first batch of a partition in a generation was fetched from where Kafka (or an earlier owner) left
 * it, not from MySQL: checks it against the stored offset and seeks there if they differ ('seeked': the
 * batch is dropped, the fetch restarts at the right place).
 */
export async function positionBatch(
  lease: Lease,
  partition: number,
  fetched: string,
  generation: number,
  keepAlive: () => Promise<void>,
): Promise<'ready' | 'seeked' | 'aborted'> {
  const { state } = lease;
  if (state.verified.get(partition) === generation) return 'ready';
  const stored = await retryUntilStopped(retryScope(lease), 'mysql', () => startOffset(lease, partition), keepAlive);
  if (stored === 'aborted') return 'aborted';
  state.verified.set(partition, generation);
  if (stored === fetched) return 'ready';
  state.clients.consumer?.seek({ topic: lease.ctx.topic, partition, offset: stored });
  return 'seeked';
}

/** After a fenced batch: another attempt moved the offset, so the fetch restarts from what is stored now. */
export async function reseekStored(lease: Lease, partition: number, keepAlive: () => Promise<void>): Promise<void> {
  const stored = await retryUntilStopped(retryScope(lease), 'mysql', () => startOffset(lease, partition), keepAlive);
  if (stored !== 'aborted') lease.state.clients.consumer?.seek({ topic: lease.ctx.topic, partition, offset: stored });
}
