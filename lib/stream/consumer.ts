import crypto from 'node:crypto';
import os from 'node:os';
import type { Admin, Batch, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import type { ActivityDeps } from '../clients/deps';
import type { ConsumeCounts, ConsumeLeaseSummary, ConsumerSlot, PartitionProgress } from './leaseSummary';
import { ensureTopicInfo } from '../kafka/topics';
import type { Metrics } from '../metrics';
import type { BatchCommitResult } from './commit';
import { commitBatch, readStoredOffset, readStoredOffsets } from './commit';
import { prepareChunk } from './chunk';
import type { PreparedChunk } from './chunk';
import { sendDeadLetters } from './deadLetter';
import { JobDirectory } from './jobCompanyLookup';
import { isDataError, warehouseRejected } from './retry';
import { checkSlot, ownsPartition, sliceAssigner, sliceGroupId } from './slice';
import { StallWatch, stallStatus } from './stall';
import type { StalledPartition } from './stall';
import { setTimeout as wait } from 'node:timers/promises';

export { DLQ_HEADERS } from './deadLetter';

export interface StreamCounts extends ConsumeCounts {
  /** Batches refused by the offset compare-and-set (another attempt owned the partition). */
  fenced: number;
  /** Transient MySQL/Kafka errors retried inside the lease. */
  retries: number;
}

export interface StreamLeaseSummary extends ConsumeLeaseSummary {
  counts: StreamCounts;
  /** Partitions whose offset did not move for `stallMs` while they had lag, at the end of the lease. */
  stalled: StalledPartition[];
  /** `ok`, or one line per stalled partition. */
  status: string;
}

export interface StreamLeaseOptions {
  leaseMs: number;
  stopWhenCaughtUp?: boolean;
  /** Messages per MySQL transaction; kafkajs batches larger than this are split. */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
  jobCacheTtlMs?: number;
  unknownJobTtlMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  /** A partition with lag whose stored offset has not moved for this long is reported stalled (default 60 s). */
  stallMs?: number;
  /** Temporal's heartbeat, when running as an activity. */
  heartbeat?: (details: unknown) => void;
  /** Temporal's cancellation, when running as an activity. */
  signal?: AbortSignal;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Consumer `index` of `count`: only the partitions p with p mod count = index (lib/stream/slice.ts). */
  consumer?: ConsumerSlot;
}

/** The outage outlived the lease: Temporal retries the activity (not listed as non-retryable). */
export class StreamUnavailableError extends Error {
  override name = 'StreamUnavailableError';
}

const EVENTS_HELP = 'Stream messages by outcome';

/** Waits `ms`, or less when `signal` aborts: here an abort only ends the wait early, it is no error. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).then(
    () => undefined,
    () => undefined,
  );
}

/** A run of one partition's messages committed as one transaction, from `expected` through `lastOffset`. */
interface Piece {
  partition: number;
  messages: KafkaMessage[];
  expected: string;
  lastOffset: string;
  /** Offsets of this kafkajs batch already dead-lettered. */
  sentToDlq: Set<string>;
}

type PieceOutcome = { status: 'committed'; nextOffset: string } | { status: 'fenced'; storedOffset: string | null } | { status: 'aborted' };

/** Adds a committed transaction to the lease's counts and the worker's metrics. */
function recordCommitted(
  counts: StreamCounts,
  metrics: Metrics,
  result: Extract<BatchCommitResult, { status: 'committed' }>,
  chunk: PreparedChunk,
  seconds: number,
  piece: Piece,
): void {
  counts.batches += 1;
  counts.consumed += result.counts.consumed;
  counts.filtered += result.counts.filtered;
  counts.unattributed += result.counts.unattributed;
  counts.deadLettered += result.counts.deadLettered;
  counts.counted += result.counted;
  counts.duplicates += result.duplicates;
  counts.redelivered += result.redelivered;
  counts.unknownJob += result.unknownJob;
  metrics.inc('trackflow_stream_events_total', EVENTS_HELP, result.counted, { result: 'counted' });
  metrics.inc('trackflow_stream_events_total', EVENTS_HELP, result.counts.filtered, { result: 'filtered' });
  metrics.inc('trackflow_stream_events_total', EVENTS_HELP, result.counts.unattributed, { result: 'unattributed' });
  metrics.inc('trackflow_stream_events_total', EVENTS_HELP, result.counts.deadLettered, { result: 'dead_lettered' });
  metrics.inc('trackflow_stream_events_total', EVENTS_HELP, result.redelivered, { result: 'redelivered' });
  metrics.inc('trackflow_stream_events_total', EVENTS_HELP, result.duplicates, { result: 'duplicate' });
  metrics.inc('trackflow_stream_dead_lettered_total', 'Poison messages sent to the dead-letter topic', chunk.counts.deadLettered);
  metrics.observe('trackflow_stream_batch_seconds', seconds);
  const oldest = Number(piece.messages[0]?.timestamp);
  if (oldest > 0) metrics.observe('trackflow_publish_to_warehouse_seconds', Math.max(0, Date.now() - oldest) / 1000);
  metrics.set('trackflow_stream_partition_last_progress_timestamp_seconds', '', Date.now() / 1000, { partition: String(piece.partition) });
}

function zeroCounts(): StreamCounts {
  return {
    consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0,
    duplicates: 0, redelivered: 0, unknownJob: 0, batches: 0, fenced: 0, retries: 0,
  };
}

/** Total and per-partition lag, the series an operator alerts on (docs/metrics.md); a slot sets only its partitions. */
function setLagMetrics(metrics: Metrics, progress: { partitions: PartitionProgress[]; lag: number }, slot?: ConsumerSlot): void {
  metrics.set('trackflow_stream_lag', '', progress.lag);
  for (const p of progress.partitions) {
    if (ownsPartition(slot, p.partition)) metrics.set('trackflow_stream_partition_lag_messages', '', p.lag, { partition: String(p.partition) });
  }
}

/** The slot's share of the topic-wide progress: its partitions and their lag. */
function ownProgress(progress: { partitions: PartitionProgress[]; lag: number }, slot?: ConsumerSlot): { partitions: PartitionProgress[]; lag: number } {
  if (!slot) return progress;
  const partitions = progress.partitions.filter((p) => ownsPartition(slot, p.partition));
  return { partitions, lag: partitions.reduce((s, p) => s + p.lag, 0) };
}

/** `host:pid` of this worker process, shown per consumer in the stream status. */
export function workerIdentity(): string {
  return `${os.hostname()}:${process.pid}`;
}

/**
 * One lease of the warehouse consumer: joins the group, consumes until the lease ends, every partition is
 * caught up (optional) or the signal aborts, then leaves the group. MySQL holds the offsets; Kafka's group
 * offsets are never committed. Transient failures are retried inside the lease; if the lease ends while the
 * stream is still failing, StreamUnavailableError is thrown so the caller (Temporal) retries.
 */
export async function runConsumeLease(deps: ActivityDeps, opts: StreamLeaseOptions): Promise<StreamLeaseSummary> {
  checkSlot(opts.consumer);
  const slot = opts.consumer;
  const started = Date.now();
  const deadline = started + opts.leaseMs;
  const { kafka, mysql, metrics } = deps;
  const { topic, consumerGroup: group, deadLetterTopic } = deps.config.kafka;
  const chunkSize = opts.chunkSize ?? 5000;
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  const pollMs = opts.pollMs ?? 250;
  const log = opts.log ?? (() => undefined);
  const attemptToken = `${workerIdentity()}:${crypto.randomBytes(4).toString('hex')}`.slice(0, 64);
  const jobs = new JobDirectory(mysql, {
    knownTtlMs: opts.jobCacheTtlMs ?? 60_000,
    unknownTtlMs: opts.unknownJobTtlMs ?? 10_000,
  });

  const counts = zeroCounts();
  let stopping = false;
  let generation = 0;
  let joined = false;
  let assigned: number[] = [];
  const verified = new Map<number, number>();
  const earliest = new Map<number, string>();
  let unhealthySince: number | null = null;
  let lastError: string | undefined;
  let progress: { partitions: PartitionProgress[]; lag: number } = { partitions: [], lag: 0 };

  const shouldStop = () => stopping || Date.now() >= deadline || opts.signal?.aborted === true;
  const noteError = (where: string, err: unknown) => {
    lastError = `${where}: ${(err as Error)?.message ?? String(err)}`;
    unhealthySince ??= Date.now();
    counts.retries += 1;
    metrics.inc('trackflow_stream_errors_total', 'Transient stream errors retried', 1, { where });
    log('stream error, retrying', { where, error: lastError });
  };
  const noteHealthy = () => {
    unhealthySince = null;
  };

  /** Retries `fn` with backoff until it succeeds or the lease is over ('aborted'). */
  async function retrying<T>(where: string, fn: () => Promise<T>, kafkaHeartbeat?: () => Promise<void>): Promise<T | 'aborted'> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        noteError(where, err);
        if (shouldStop()) return 'aborted';
        await sleep(Math.min(5000, 200 * 2 ** attempt) * (0.75 + Math.random() / 2), opts.signal);
        if (kafkaHeartbeat) await kafkaHeartbeat().catch(() => undefined);
        if (shouldStop()) return 'aborted';
      }
    }
  }

  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let dlqMaxBatchBytes = 0;
  let consumer: Consumer | undefined;

  async function refreshEarliest(a: Admin): Promise<Array<{ partition: number; high: string; low: string }>> {
    const offsets = await a.fetchTopicOffsets(topic);
    for (const o of offsets) earliest.set(o.partition, o.low);
    return offsets.map((o) => ({ partition: o.partition, high: o.high, low: o.low }));
  }

  async function startOffset(partition: number): Promise<string> {
    const stored = await readStoredOffset(mysql, { group, topic, partition });
    if (stored !== null) return stored;
    if (!earliest.has(partition) && admin) await refreshEarliest(admin);
    return earliest.get(partition) ?? '0';
  }

  /**
   * Commits `slice` (offsets up to `lastOffset`) as one transaction, its poison sent to the DLQ first. A
   * MySQL data error, which would fail the same transaction forever, splits the slice in halves committed in
   * turn, down to the one message MySQL refuses: that message is dead-lettered with MySQL's reason.
   */
  async function commitPiece(piece: Piece, forced: Map<string, Error>, kafkaHeartbeat: () => Promise<void>): Promise<PieceOutcome> {
    const { partition, messages, expected, lastOffset } = piece;
    const nextOffset = (BigInt(lastOffset) + 1n).toString();
    const t0 = process.hrtime.bigint();
    const chunk = prepareChunk(messages, forced);
    let dataError: unknown;
    const result = await retrying(
      'commit',
      async () => {
        await deadLetter(chunk, partition, piece.sentToDlq);
        try {
          const started = performance.now();
          const committed = await commitBatch(mysql, jobs, {
            group, topic, partition, expectedOffset: expected, earliestOffset: earliest.get(partition), nextOffset,
            countable: chunk.countable, counts: chunk.counts, origins: chunk.origins, attemptToken,
          });
          metrics.observe('trackflow_stream_commit_seconds', (performance.now() - started) / 1000);
          return committed;
        } catch (err) {
          if (!isDataError(err)) throw err;
          dataError = err;
          return 'data-error' as const;
        }
      },
      kafkaHeartbeat,
    );
    if (result === 'aborted') return { status: 'aborted' };
    if (result === 'data-error') {
      metrics.inc('trackflow_stream_data_errors_total', 'Batch transactions MySQL refused for a value, split to isolate it');
      log('MySQL refused a value; splitting the chunk', { partition, messages: messages.length, error: (dataError as Error).message });
      if (messages.length === 1) {
        const offset = (messages[0] as KafkaMessage).offset;
        // Refused even with the message dead-lettered: the schema, not the input. Raised to the consumer's
        // crash handling (the lease reports the partition stalled), never retried here in a loop.
        if (forced.has(offset)) throw dataError;
        forced.set(offset, warehouseRejected(dataError));
        return commitPiece(piece, forced, kafkaHeartbeat);
      }
      const half = Math.ceil(messages.length / 2);
      const firstLast = (messages[half - 1] as KafkaMessage).offset;
      const first = await commitPiece({ ...piece, messages: messages.slice(0, half), lastOffset: firstLast }, forced, kafkaHeartbeat);
      if (first.status !== 'committed') return first;
      return commitPiece({ ...piece, messages: messages.slice(half), expected: first.nextOffset }, forced, kafkaHeartbeat);
    }
    if (result.status === 'fenced') return { status: 'fenced', storedOffset: result.storedOffset };
    noteHealthy();
    recordCommitted(counts, metrics, result, chunk, Number(process.hrtime.bigint() - t0) / 1e9, piece);
    return { status: 'committed', nextOffset };
  }

  /** Sends the chunk's poison not yet sent for this batch (a retried transaction does not send it twice). */
  async function deadLetter(chunk: PreparedChunk, partition: number, sent: Set<string>): Promise<void> {
    const todo = chunk.poison.filter((p) => !sent.has(p.message.offset));
    if (!producer || todo.length === 0) return;
    const truncated = await sendDeadLetters({ producer, topic: deadLetterTopic, maxBatchBytes: dlqMaxBatchBytes, source: { topic, partition } }, todo);
    if (truncated) log('dead-lettered values truncated to fit the DLQ', { partition, truncated });
    for (const p of todo) sent.add(p.message.offset);
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isStale } = payload;
    // Set when a heartbeat learns that the group is rebalancing: the rest of the batch is left to whoever owns
    // the partition next (it re-reads from the stored offset). Committing it first would hold up the whole
    // group until this batch is done, or past the rebalance timeout.
    let rebalancing = false;
    const kafkaHeartbeat = async () => {
      await payload.heartbeat().catch((err: unknown) => {
        if ((err as { type?: string } | undefined)?.type === 'REBALANCE_IN_PROGRESS') rebalancing = true;
      });
    };
    if (shouldStop()) return;
    const partition = batch.partition;
    const myGeneration = generation;
    const fetched = String((batch as Batch & { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset());

    // First batch of a partition in this generation: the fetch position came from Kafka (or from an earlier
    // owner), not from MySQL. Re-position to the stored offset before doing anything.
    if (verified.get(partition) !== myGeneration) {
      const stored = await retrying('mysql', () => startOffset(partition), kafkaHeartbeat);
      if (stored === 'aborted') return;
      verified.set(partition, myGeneration);
      if (stored !== fetched) {
        consumer?.seek({ topic, partition, offset: stored });
        return;
      }
    }

    let expected = fetched;
    const messages = batch.messages;
    const sentToDlq = new Set<string>();
    const forced = new Map<string, Error>();
    for (let i = 0; i < messages.length; i += chunkSize) {
      if (shouldStop() || rebalancing || isStale() || generation !== myGeneration) return;
      const slice = messages.slice(i, i + chunkSize);
      const isLast = i + chunkSize >= messages.length;
      const lastOffset = isLast ? batch.lastOffset() : (slice[slice.length - 1] as KafkaMessage).offset;
      const outcome = await commitPiece({ partition, messages: slice, expected, lastOffset, sentToDlq }, forced, kafkaHeartbeat);
      if (outcome.status === 'aborted') return;
      if (outcome.status === 'fenced') {
        counts.fenced += 1;
        metrics.inc('trackflow_stream_fenced_total', 'Batches refused by the offset compare-and-set');
        log('batch fenced: offset moved by another attempt', { partition, expected, stored: outcome.storedOffset });
        const stored = await retrying('mysql', () => startOffset(partition), kafkaHeartbeat);
        if (stored !== 'aborted') consumer?.seek({ topic, partition, offset: stored });
        return;
      }
      resolveOffset(lastOffset);
      expected = outcome.nextOffset;
      await kafkaHeartbeat();
    }
  }

  async function computeProgress(a: Admin): Promise<{ partitions: PartitionProgress[]; lag: number }> {
    const offsets = await refreshEarliest(a);
    const stored = await readStoredOffsets(mysql, group, topic);
    const partitions = offsets
      .map((o) => {
        const next = stored.get(o.partition) ?? o.low;
        return { partition: o.partition, nextOffset: next, lag: Math.max(0, Number(BigInt(o.high) - BigInt(next))) };
      })
      .sort((x, y) => x.partition - y.partition);
    return { partitions, lag: partitions.reduce((s, p) => s + p.lag, 0) };
  }

  function caughtUp(p: { partitions: PartitionProgress[] }): boolean {
    const owned = p.partitions.filter((x) => ownsPartition(slot, x.partition));
    const mine = !slot && joined && assigned.length ? owned.filter((x) => assigned.includes(x.partition)) : owned;
    return p.partitions.length > 0 && mine.every((x) => x.lag === 0);
  }

  async function setup(): Promise<void> {
    admin = kafka.admin();
    await admin.connect();
    dlqMaxBatchBytes = (await ensureTopicInfo(kafka, deadLetterTopic, 1)).maxBatchBytes;
    await refreshEarliest(admin);
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    consumer = kafka.consumer({
      // A slot joins a group of its own whose assigner hands out only its partitions (lib/stream/slice.ts);
      // MySQL offsets stay keyed by `group`, the one logical consumer group.
      groupId: sliceGroupId(group, slot),
      ...(slot ? { partitionAssigners: [sliceAssigner(slot)] } : {}),
      allowAutoTopicCreation: false,
      // A fetch is held decompressed, as JS objects (~1 KB each), until its batches commit. The caps count
      // compressed bytes and gzip'd JSON is ~60 B a message, so 2 MiB is ~35k messages in memory at once:
      // enough for full transactions, small enough that a large backlog does not inflate the heap.
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 512 * 1024,
      maxBytes: 2 * 1024 * 1024,
      maxWaitTimeInMs: 500,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      retry: { initialRetryTime: 300, retries: 8, restartOnFailure: async () => true },
    });
    const c = consumer;
    c.on(c.events.GROUP_JOIN, (e) => {
      generation += 1;
      joined = true;
      const gen = generation;
      assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y);
      log('joined group', { generation: gen, assigned });
      // Position every new assignment at the MySQL offset now, unless its first batch already did.
      void (async () => {
        for (const partition of assigned) {
          try {
            const offset = await startOffset(partition);
            if (generation === gen && verified.get(partition) !== gen) c.seek({ topic, partition, offset });
          } catch (err) {
            noteError('seek', err);
          }
        }
      })();
    });
    c.on(c.events.CRASH, (e) => noteError('kafka', e.payload.error));
    await c.connect();
    await c.subscribe({ topic, fromBeginning: true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? Math.max(1, Math.ceil(deps.config.kafka.partitions / (slot?.count ?? 1))),
      eachBatch,
    });
  }

  async function teardown(): Promise<void> {
    stopping = true;
    for (const close of [() => consumer?.disconnect(), () => producer?.disconnect()]) {
      try {
        await close();
      } catch (err) {
        log('disconnect failed', { error: (err as Error).message });
      }
    }
    consumer = undefined;
    producer = undefined;
  }

  const identity = (own: PartitionProgress[]) =>
    slot ? { index: slot.index, count: slot.count, worker: workerIdentity(), partitions: own.map((p) => p.partition) } : undefined;

  const stallWatch = new StallWatch(opts.stallMs ?? 60_000);
  let stalled: StalledPartition[] = [];
  let stalledKey = '';
  /** Flags the partitions of this lease that have lag and an offset that does not move (gauge and log line). */
  function observeStalls(now: number): void {
    const owned = ownProgress(progress, slot).partitions;
    const mine = !slot && joined && assigned.length ? owned.filter((p) => assigned.includes(p.partition)) : owned;
    stalled = stallWatch.observe(mine, now);
    const flagged = new Set(stalled.map((x) => x.partition));
    for (const p of owned) {
      metrics.set('trackflow_stream_partition_stalled', 'Partition with lag whose stored offset has not moved for stallMs (1) or not (0)',
        flagged.has(p.partition) ? 1 : 0, { partition: String(p.partition) });
    }
    const key = [...flagged].join(',');
    if (key && key !== stalledKey) log('partition stalled', { status: stallStatus(stalled), lastError });
    stalledKey = key;
  }

  let endReason: ConsumeLeaseSummary['endReason'] = 'lease-expired';
  try {
    // Connecting is retried like everything else: a broker restart must not fail the lease.
    for (let attempt = 0; ; attempt++) {
      try {
        await setup();
        break;
      } catch (err) {
        noteError('connect', err);
        await teardown();
        stopping = false;
        await admin?.disconnect().catch(() => undefined);
        admin = undefined;
        if (shouldStop()) break;
        await sleep(Math.min(5000, 300 * 2 ** attempt), opts.signal);
      }
    }

    let lastBeat = 0;
    let lastProgress = 0;
    while (admin && consumer) {
      if (opts.signal?.aborted) {
        endReason = 'cancelled';
        break;
      }
      if (Date.now() >= deadline) break;
      const now = Date.now();
      if (opts.stopWhenCaughtUp || now - lastProgress >= heartbeatMs) {
        try {
          progress = await computeProgress(admin);
          lastProgress = now;
          setLagMetrics(metrics, progress, slot);
          if (ownProgress(progress, slot).lag === 0) noteHealthy();
          observeStalls(now);
          if (opts.stopWhenCaughtUp && caughtUp(progress)) {
            endReason = 'caught-up';
            break;
          }
        } catch (err) {
          noteError('progress', err);
        }
      }
      if (now - lastBeat >= heartbeatMs) {
        lastBeat = now;
        const own = ownProgress(progress, slot);
        opts.heartbeat?.({
          partitions: own.partitions, counts: { ...counts }, lag: own.lag, stalled, status: stallStatus(stalled),
          ...(slot ? { consumer: identity(own.partitions), lastError } : {}),
        });
      }
      await sleep(pollMs, opts.signal);
    }
    if (opts.signal?.aborted) endReason = 'cancelled';
  } finally {
    // Stop fetching; an in-flight transaction commits or rolls back before disconnect returns.
    await teardown();
  }
  if (admin) {
    try {
      progress = await computeProgress(admin);
      setLagMetrics(metrics, progress, slot);
    } catch (err) {
      noteError('progress', err);
    }
    await admin.disconnect().catch(() => undefined);
  }
  if (unhealthySince !== null && endReason !== 'cancelled' && endReason !== 'caught-up') {
    throw new StreamUnavailableError(`stream unavailable since ${new Date(unhealthySince).toISOString()}: ${lastError}`);
  }
  const own = ownProgress(progress, slot);
  return {
    counts,
    partitions: own.partitions,
    lag: own.lag,
    ...(slot ? { consumer: identity(own.partitions) } : {}),
    endReason,
    lastError,
    durationMs: Date.now() - started,
    stalled,
    status: stallStatus(stalled),
  };
}
