import type { Client, types } from 'cassandra-driver';
import type { CompressionTypes, Kafka, Message, Producer } from 'kafkajs';
import { compressionType } from '../clients/kafkaCodecs';
import { DEFAULT_KAFKA_COMPRESSION } from '../envSchema';
import type { KafkaCompression } from '../envSchema';
import type { PublishSummary } from './publishSummary';
import type { FaultHook } from '../faults';
import type { Metrics } from '../metrics';
import { encodeEventV2, encodeMessage, toMessage } from '../domain/message';
import type { LakeEventFields, MessageVersion } from '../domain/message';
import { ensureTopicInfo } from '../kafka/topics';
import { defaultPartitionOf, sendSized } from '../kafka/sizedSend';
import type { SizedSendResult } from '../kafka/sizedSend';
import { partitionForEvent } from './partition';

/** Position of a publisher inside one ingest batch; also the heartbeat details of the activity. */
export interface PublishPosition {
  ingestBatch: string;
  chunk: number;
  seq: number;
  published: number;
}

/** A position as reported after an acknowledged page: the batch's, plus what this run published in all. */
export type ReportedPosition = PublishPosition & { totalPublished: number };

export interface PublishDeps {
  cassandra: Client;
  kafka: Kafka;
  keyspace: string;
  topic: string;
  partitions: number;
  /** Record-batch compression (TRACKFLOW_KAFKA_COMPRESSION); DEFAULT_KAFKA_COMPRESSION when not given. */
  compression?: KafkaCompression;
  /** The message contract version written (TRACKFLOW_KAFKA_MESSAGE_VERSION); 2 when not given. */
  messageVersion?: MessageVersion;
  metrics?: Metrics;
}

export interface PublishOptions {
  maxEvents?: number;
  pageSize?: number;
  /** Called after each acknowledged page with the new position (the activity heartbeats it). */
  onProgress?: (p: ReportedPosition) => void;
  /** Test-only fault hook (lib/faults.ts): called after Kafka acknowledged a page, before its progress is recorded. */
  fault?: FaultHook;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Only the pending batches whose share is `index` of `count` (docs/publish.md, "Several publishers"). */
  share?: { index: number; count: number };
  /**
   * Called every `heartbeatMs` (default 5000) with the last acknowledged position, whatever the sends do: a
   * connect or send that waits out a broker outage is alive, and must not be taken for a dead publisher.
   */
  keepAlive?: (p: ReportedPosition | undefined) => void;
  heartbeatMs?: number;
  /**
   * Aborted when the activity is cancelled or timed out. Another attempt may own the batches by then, so
   * the publisher sends no further page and records no further position.
   */
  signal?: AbortSignal;
}

/** Which of `count` concurrent publishers owns an ingest batch: FNV-1a of its id, mod count. */
export function publishShareOf(ingestBatch: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ingestBatch.length; i++) h = Math.imul(h ^ ingestBatch.charCodeAt(i), 0x01000193) >>> 0;
  return h % count;
}

interface Progress {
  nextChunk: number;
  nextSeq: number;
  published: number;
  quarantined: number;
  pages: number;
}

/** A message with the queue position it came from, so a send the broker refuses can quarantine it. */
interface QueueMessage extends Message {
  seq: number;
}

interface BuiltPage {
  chunk: number;
  messages: QueueMessage[];
  lastSeq: number;
  quarantined: number;
}

const DEFAULT_PAGE = 5000;

function publishQueries(ks: string) {
  return {
    pending: `SELECT ingest_batch FROM ${ks}.publish_pending WHERE shard = 0`,
    batch: `SELECT status, max_chunk FROM ${ks}.ingest_batches WHERE ingest_batch = ?`,
    progress: `SELECT next_chunk, next_seq, published, quarantined, pages, completed FROM ${ks}.publish_progress WHERE ingest_batch = ?`,
    page:
      `SELECT seq, create_time, job_id, custom_track, bid, campaign_id, group_id, publisher_id ` +
      `FROM ${ks}.publish_queue WHERE ingest_batch = ? AND chunk = ? AND seq >= ?`,
    saveProgress:
      `INSERT INTO ${ks}.publish_progress (ingest_batch, next_chunk, next_seq, published, quarantined, pages, completed, updated_at) ` +
      `VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    quarantine:
      `INSERT INTO ${ks}.quarantine (ingest_batch, stage, line_number, source_file, reason, raw, quarantined_at) ` +
      `VALUES (?, 'publish', ?, ?, ?, ?, ?)`,
    done: `DELETE FROM ${ks}.publish_pending WHERE shard = 0 AND ingest_batch = ?`,
  };
}

const PREPARE = { prepare: true };

/** Throws once the run's signal is aborted (its reason: Temporal's CancelledFailure, TIMED_OUT or NOT_FOUND). */
function throwIfStopped(opts: PublishOptions): void {
  const signal = opts.signal;
  if (!signal?.aborted) return;
  throw signal.reason instanceof Error ? signal.reason : new Error(`publish stopped: ${String(signal.reason)}`);
}

/** One call of publishPendingCore: its clients and limits, and the summary it adds up. */
interface PublishRun {
  deps: PublishDeps;
  opts: PublishOptions;
  q: ReturnType<typeof publishQueries>;
  producer: Producer;
  partitions: number;
  maxBatchBytes: number;
  partitionOf: ReturnType<typeof defaultPartitionOf>;
  compression: CompressionTypes;
  messageVersion: MessageVersion;
  pageSize: number;
  maxEvents: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  summary: PublishSummary;
  /** Pages acknowledged by Kafka in this call (the fault hook's count). */
  pagesSent: number;
}

/** One ingest batch being published: its position, the page in flight and the progress row being written. */
interface BatchPublish {
  ingestBatch: string;
  maxChunk: number;
  progress: Progress;
  inFlight?: { page: BuiltPage; ack: Promise<SizedSendResult> };
  saving: Promise<unknown>;
}

function quarantine(run: PublishRun, ingestBatch: string, seq: number, reason: string, raw: string) {
  return run.deps.cassandra.execute(run.q.quarantine, [ingestBatch, seq, null, reason, raw, new Date()], PREPARE);
}

/** The page's messages; a row that cannot become one (ingest validation should make it impossible) is quarantined. */
async function buildPage(run: PublishRun, ingestBatch: string, chunk: number, rows: types.Row[]): Promise<BuiltPage> {
  const page: BuiltPage = { chunk, messages: [], lastSeq: 0, quarantined: 0 };
  for (const row of rows) {
    const seq = Number(row['seq']);
    page.lastSeq = seq;
    try {
      const fields = queueRowFields(row);
      const value = encodeQueueRow(run.messageVersion, fields, ingestBatch, seq);
      // The key of either version (messageKey): the job id, or none and a partition by event id.
      const key = fields.job_id === null ? null : String(fields.job_id);
      page.messages.push({ key, value, partition: key === null ? partitionForEvent(fields.create_time, run.partitions) : undefined, seq });
    } catch (err) {
      page.quarantined += 1;
      await quarantine(run, ingestBatch, seq, `not publishable: ${(err as Error).message}`, JSON.stringify(row));
    }
  }
  return page;
}

/** A queue row's message value in the configured version; throws PoisonMessageError for an unpublishable row. */
function encodeQueueRow(version: MessageVersion, fields: LakeEventFields, batch: string, seq: number): string {
  if (version === 2) return encodeEventV2(fields, { batch, seq });
  const message = toMessage(fields);
  message.pub = `${batch}:${seq}`;
  return encodeMessage(message);
}

/**
 * One page in as many sends as the topic's batch limit needs, in queue order. A message the broker refuses
 * on its own (too large even compressed) is quarantined with stage `publish` and the page goes on.
 */
function sendPage(run: PublishRun, ingestBatch: string, page: BuiltPage): Promise<SizedSendResult> {
  if (!page.messages.length) return Promise.resolve({ sent: 0, rejected: 0, sends: 0 });
  return sendSized(run.producer, {
    topic: run.deps.topic,
    messages: page.messages,
    maxBatchBytes: run.maxBatchBytes,
    compression: run.compression,
    acks: -1,
    partitionOf: run.partitionOf,
    onRejected: async (m, err) => {
      const value = String(m.value);
      run.log('message refused by the broker, quarantined', { ingestBatch, seq: m.seq, bytes: Buffer.byteLength(value) });
      await quarantine(run, ingestBatch, m.seq, `refused by Kafka: ${(err as { type?: string }).type ?? err.name}: ${err.message} (${Buffer.byteLength(value)} bytes)`, rawPrefix(value));
    },
  });
}

function saveProgress(run: PublishRun, b: BatchPublish, completed: boolean): Promise<unknown> {
  const p = b.progress;
  return run.deps.cassandra.execute(
    run.q.saveProgress,
    [b.ingestBatch, p.nextChunk, p.nextSeq, p.published, p.quarantined, p.pages, completed, new Date()],
    PREPARE,
  );
}

/**
 * Waits for the page in flight to be acknowledged, then records its position: the progress row is written
 * while the next page is in flight, but only after the previous page's row has landed.
 */
async function acknowledge(run: PublishRun, b: BatchPublish): Promise<void> {
  const flight = b.inFlight;
  if (!flight) return;
  b.inFlight = undefined;
  const { page } = flight;
  const sent = await flight.ack;
  // An attempt that was cancelled or timed out leaves the position to the attempt that replaced it: recording its own
  // could move the row backwards, or reopen a batch the other attempt completed. The page is re-sent instead.
  throwIfStopped(run.opts);
  // Rows the broker refused alone are quarantined (and their rows written) before the send resolves.
  const quarantined = page.quarantined + sent.rejected;
  await b.saving; // the previous page's row lands before this page's position can be recorded
  run.pagesSent += 1;
  run.opts.fault?.({ stage: 'publish', point: 'page-acknowledged', pagesSent: run.pagesSent });
  const p = b.progress;
  p.nextChunk = page.chunk;
  p.nextSeq = page.lastSeq + 1;
  p.published += sent.sent;
  p.quarantined += quarantined;
  p.pages += 1;
  b.saving = saveProgress(run, b, false);
  b.saving.catch(() => undefined); // awaited before the next position or the return; not unhandled meanwhile
  run.summary.published += sent.sent;
  run.summary.quarantined += quarantined;
  run.summary.batches += 1;
  run.deps.metrics?.inc('trackflow_publish_events_total', 'Events published to Kafka', sent.sent);
  if (quarantined) run.deps.metrics?.inc('trackflow_publish_quarantined_total', 'Lake rows not publishable', quarantined);
  run.opts.onProgress?.({ ingestBatch: b.ingestBatch, chunk: page.chunk, seq: p.nextSeq, published: p.published, totalPublished: run.summary.published });
}

/**
 * Publishes one queue chunk page by page. Page k+1 is read and built while page k is in flight, and page k's
 * progress row is written while page k+1 is in flight; sends stay one at a time, in queue order, which the
 * consumer's watermark relies on. 'limit' when maxEvents is reached.
 */
async function publishChunk(run: PublishRun, b: BatchPublish, chunk: number): Promise<'limit' | 'next'> {
  const fromSeq = chunk === b.progress.nextChunk ? b.progress.nextSeq : 0;
  const fetchPage = (state: string | undefined): Promise<types.ResultSet> => {
    const read = run.deps.cassandra.execute(run.q.page, [b.ingestBatch, chunk, fromSeq], { prepare: true, fetchSize: run.pageSize, pageState: state });
    // A read-ahead still pending when a send fails must not become an unhandled rejection; awaiting it still throws.
    read.catch(() => undefined);
    return read;
  };
  let next: Promise<types.ResultSet> | undefined = fetchPage(undefined);
  while (next) {
    const rs: types.ResultSet = await next;
    const pageState = rs.pageState ?? undefined;
    // Read ahead while this page is built and sent: Cassandra and Kafka work in parallel.
    next = pageState ? fetchPage(pageState) : undefined;
    if (rs.rows.length === 0) continue;
    const page = await buildPage(run, b.ingestBatch, chunk, rs.rows);
    if (b.inFlight) {
      await acknowledge(run, b);
      if (run.summary.published >= run.maxEvents) {
        // Let the read-ahead finish before the caller may shut the client down.
        await next?.catch(() => undefined);
        return 'limit';
      }
    }
    throwIfStopped(run.opts);
    const ack = sendPage(run, b.ingestBatch, page);
    ack.catch(() => undefined); // awaited in acknowledge(); not unhandled while the next page is built
    b.inFlight = { page, ack };
  }
  return 'next';
}

/** The batch's saved position, or undefined when it is not ready (still ingesting) or already complete. */
async function openBatch(run: PublishRun, ingestBatch: string): Promise<BatchPublish | undefined> {
  const { cassandra } = run.deps;
  const batchRow = (await cassandra.execute(run.q.batch, [ingestBatch], PREPARE)).first();
  if (!batchRow || batchRow['status'] !== 'ingested') return undefined; // still ingesting: next run picks it up
  const saved = (await cassandra.execute(run.q.progress, [ingestBatch], PREPARE)).first();
  if (saved?.['completed']) {
    await cassandra.execute(run.q.done, [ingestBatch], PREPARE);
    return undefined;
  }
  const progress: Progress = {
    nextChunk: Number(saved?.['next_chunk'] ?? 0),
    nextSeq: Number(saved?.['next_seq'] ?? 0),
    published: Number(saved?.['published'] ?? 0),
    quarantined: Number(saved?.['quarantined'] ?? 0),
    pages: Number(saved?.['pages'] ?? 0),
  };
  if (progress.published > 0 || progress.nextChunk > 0) {
    run.log('resuming publish', { ingestBatch, chunk: progress.nextChunk, seq: progress.nextSeq, published: progress.published });
  }
  return { ingestBatch, maxChunk: Number(batchRow['max_chunk'] ?? 0), progress, saving: Promise.resolve() };
}

/** Publishes one ingest batch from its saved position to the end, then marks it complete ('limit': stopped at maxEvents). */
async function publishBatch(run: PublishRun, b: BatchPublish): Promise<'limit' | 'done'> {
  try {
    return await publishBatchPages(run, b);
  } catch (err) {
    // A position already being written lands before the run ends, so the next run starts after it.
    await b.saving.catch(() => undefined);
    throw err;
  }
}

/** publishBatch's pages, chunk after chunk, and the batch's completion. */
async function publishBatchPages(run: PublishRun, b: BatchPublish): Promise<'limit' | 'done'> {
  for (let chunk = b.progress.nextChunk; chunk <= b.maxChunk; chunk++) {
    if ((await publishChunk(run, b, chunk)) === 'limit') {
      await b.saving;
      return 'limit';
    }
  }
  if (b.inFlight) {
    await acknowledge(run, b);
    if (run.summary.published >= run.maxEvents) {
      await b.saving;
      return 'limit';
    }
  }
  await b.saving;
  throwIfStopped(run.opts);
  await saveProgress(run, b, true);
  await run.deps.cassandra.execute(run.q.done, [b.ingestBatch], PREPARE);
  run.log('batch published', { ingestBatch: b.ingestBatch, published: b.progress.published, quarantined: b.progress.quarantined });
  return 'done';
}

/** Connects the producer: one request in flight per partition, on a topic created on first use. */
async function openRun(deps: PublishDeps, opts: PublishOptions): Promise<PublishRun> {
  const { partitions, maxBatchBytes } = await ensureTopicInfo(deps.kafka, deps.topic, deps.partitions);
  // One request in flight keeps each partition in send order, which the consumer's watermark relies on.
  // Kafka's idempotent producer is not used: it only dedupes within one producer session and wants unlimited
  // retries; a copy from a retried request lands right after its original and the watermark drops it.
  const producer: Producer = deps.kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  return {
    deps, opts, q: publishQueries(deps.keyspace), producer, partitions, maxBatchBytes,
    partitionOf: defaultPartitionOf(deps.topic, partitions),
    compression: compressionType(deps.compression ?? DEFAULT_KAFKA_COMPRESSION),
    messageVersion: deps.messageVersion ?? 2,
    pageSize: opts.pageSize ?? DEFAULT_PAGE,
    maxEvents: opts.maxEvents ?? Number.POSITIVE_INFINITY,
    log: opts.log ?? (() => undefined),
    summary: { published: 0, batches: 0, quarantined: 0, ingestBatches: [], more: false, durationMs: 0 },
    pagesSent: 0,
  };
}

/**
 * Publishes every ingested-but-unpublished lake event to Kafka, batch by batch, page by page, in queue order.
 * Progress is recorded in Cassandra after Kafka acknowledges a page; a crash in between re-sends that page,
 * and the consumer's sequence watermark drops the copies. Memory holds at most three pages (one in flight, one built, one read ahead).
 */
export async function publishPendingCore(deps: PublishDeps, opts: PublishOptions = {}): Promise<PublishSummary> {
  const started = Date.now();
  const beat = startHeartbeat(opts);
  try {
    const run = await openRun(deps, beat.opts);
    try {
      return await publishPendingBatches(run);
    } finally {
      run.summary.durationMs = Date.now() - started;
      await run.producer.disconnect().catch(() => undefined);
    }
  } finally {
    beat.stop();
  }
}

/** Every pending batch of the run's share, in turn; stops at maxEvents with `more` set. */
async function publishPendingBatches(run: PublishRun): Promise<PublishSummary> {
  const share = run.opts.share;
  const pending = (await run.deps.cassandra.execute(run.q.pending, [], PREPARE)).rows
    .map((r) => String(r['ingest_batch']))
    .filter((b) => !share || publishShareOf(b, share.count) === share.index);
  for (const ingestBatch of pending) {
    throwIfStopped(run.opts);
    const b = await openBatch(run, ingestBatch);
    if (!b) continue;
    run.summary.ingestBatches.push(ingestBatch);
    if ((await publishBatch(run, b)) === 'limit') {
      run.summary.more = true;
      return run.summary;
    }
  }
  return run.summary;
}

/**
 * The keepAlive timer of a run, from before the producer connects to the end: `opts` with an onProgress that
 * also remembers the last position, which each beat repeats.
 */
function startHeartbeat(opts: PublishOptions): { opts: PublishOptions; stop: () => void } {
  let last: ReportedPosition | undefined;
  const timer = opts.keepAlive ? setInterval(() => opts.keepAlive?.(last), opts.heartbeatMs ?? 5000) : undefined;
  timer?.unref();
  return {
    opts: { ...opts, onProgress: (p) => { last = p; opts.onProgress?.(p); } },
    stop: () => clearInterval(timer),
  };
}

/** The message fields of a publish_queue row (doubles in the lake, numbers or null on the wire). */
export function queueRowFields(row: types.Row): LakeEventFields {
  return {
    create_time: String(row['create_time']),
    job_id: numberOrNull(row['job_id']),
    custom_track: (row['custom_track'] as string | null) ?? null,
    bid: numberOrNull(row['bid']),
    campaign_id: numberOrNull(row['campaign_id']),
    group_id: numberOrNull(row['group_id']),
    publisher_id: numberOrNull(row['publisher_id']),
  };
}

/** The first 64 KiB of a refused message: enough to identify it; the whole row stays in publish_queue. */
function rawPrefix(value: string): string {
  return value.length <= 65_536 ? value : `${value.slice(0, 65_536)}... (${value.length} characters)`;
}

/** A non-finite double stays what it is, so toMessage refuses the row (it is quarantined, not sent as null). */
function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return Number(value);
}
