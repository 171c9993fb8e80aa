import type { ConsumerConfig } from 'kafkajs';
import type { ConsumerSlot } from './leaseSummary';
import { ensureTopicInfo } from '../kafka/topics';
import { assignedPartitions, onGroupJoin, refreshEarliest } from './assignment';
import { consumeBatch } from './batch';
import type { Lease } from './lease';
import { noteError, shouldStop } from './lease';
import { backoffMs, sleep } from './retry';
import { sliceAssigner, sliceGroupId } from './slice';

export interface FetchOptions {
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
}

/** The kafkajs consumer of a lease: no auto-commit (MySQL holds offsets), no topic creation, bounded fetches. */
export function consumerConfig(group: string, slot: ConsumerSlot | undefined, maxBytesPerPartition?: number): ConsumerConfig {
  return {
    // A slot joins a group of its own whose assigner hands out only its partitions (lib/stream/slice.ts);
    // MySQL offsets stay keyed by `group`, the one logical consumer group.
    groupId: sliceGroupId(group, slot),
    ...(slot ? { partitionAssigners: [sliceAssigner(slot)] } : {}),
    allowAutoTopicCreation: false,
    // A fetch is held decompressed, as JS objects (~1 KB each), until its batches commit. The caps count
    // compressed bytes: gzip'd v1 JSON was ~60 B a message, zstd'd v2 is about three quarters of that, so
    // 1.5 MiB is still ~35k messages in memory at once: enough for full transactions, small enough that a
    // large backlog does not inflate the heap.
    maxBytesPerPartition: maxBytesPerPartition ?? 384 * 1024,
    maxBytes: 1536 * 1024,
    maxWaitTimeInMs: 500,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    retry: { initialRetryTime: 300, retries: 8, restartOnFailure: async () => true },
  };
}

/**
 * Connects the lease's clients: the admin (offsets, lag), the DLQ topic (created through ensureTopicInfo)
 * and its producer, then the consumer, which joins the group and starts fetching into consumeBatch.
 */
export async function connectLease(lease: Lease, partitions: number, opts: FetchOptions): Promise<void> {
  const { ctx, state } = lease;
  const clients = state.clients;
  clients.admin = ctx.kafka.admin();
  await clients.admin.connect();
  clients.dlqMaxBatchBytes = (await ensureTopicInfo(ctx.kafka, ctx.deadLetterTopic, 1)).maxBatchBytes;
  await refreshEarliest(lease, clients.admin);
  clients.producer = ctx.kafka.producer({ allowAutoTopicCreation: false });
  await clients.producer.connect();
  const c = (clients.consumer = ctx.kafka.consumer(consumerConfig(ctx.group, ctx.slot, opts.maxBytesPerPartition)));
  c.on(c.events.GROUP_JOIN, (e) => onGroupJoin(lease, c, assignedPartitions(e.payload.memberAssignment, ctx.topic)));
  c.on(c.events.CRASH, (e) => noteError(lease, 'kafka', e.payload.error));
  await c.connect();
  await c.subscribe({ topic: ctx.topic, fromBeginning: true });
  await c.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? Math.max(1, Math.ceil(partitions / (ctx.slot?.count ?? 1))),
    eachBatch: (payload) => consumeBatch(lease, payload),
  });
}

/** Stops fetching and disconnects consumer and producer; an in-flight transaction commits or rolls back first. */
export async function disconnectLease(lease: Lease): Promise<void> {
  const clients = lease.state.clients;
  lease.state.stopping = true;
  for (const close of [() => clients.consumer?.disconnect(), () => clients.producer?.disconnect()]) {
    try {
      await close();
    } catch (err) {
      lease.ctx.log('disconnect failed', { error: (err as Error).message });
    }
  }
  clients.consumer = undefined;
  clients.producer = undefined;
}

/** connectLease, retried with the stream's backoff: a broker restart must not fail the lease. */
export async function connectWithRetry(lease: Lease, partitions: number, opts: FetchOptions): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await connectLease(lease, partitions, opts);
      return;
    } catch (err) {
      noteError(lease, 'connect', err);
      await disconnectLease(lease);
      lease.state.stopping = false;
      await lease.state.clients.admin?.disconnect().catch(() => undefined);
      lease.state.clients.admin = undefined;
      if (shouldStop(lease)) return;
      await sleep(backoffMs(attempt), lease.ctx.signal);
    }
  }
}
