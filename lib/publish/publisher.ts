import type { Client, types } from 'cassandra-driver';
import type { Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { PublishSummary } from './publishSummary';
import type { Metrics } from '../metrics';
import { encodeMessage, messageKey, toMessage } from '../domain/message';
import type { LakeEventFields } from '../domain/message';
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

export interface PublishDeps {
  cassandra: Client;
  kafka: Kafka;
  keyspace: string;
  topic: string;
  partitions: number;
  metrics?: Metrics;
}

export interface PublishOptions {
  maxEvents?: number;
  pageSize?: number;
  /** Called after each acknowledged page with the new position (the activity heartbeats it). */
  onProgress?: (p: PublishPosition & { totalPublished: number }) => void;
  /** Fault injection for tests: runs after Kafka acknowledged a page and before its progress is recorded. */
  afterSend?: (pagesSent: number) => void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Only the pending batches whose share is `index` of `count` (docs/publish.md, "Several publishers"). */
  share?: { index: number; count: number };
}

/** Which of `count` concurrent publishers owns an ingest batch: FNV-1a of its id, mod count. */
export function publishShareOf(ingestBatch: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ingestBatch.length; i++) h = Math.imul(h ^ ingestBatch.charCodeAt(i), 0x01000193) >>> 0;
  return h % count;
}

export class PublishCrash extends Error {
  override name = 'PublishCrash';
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

/**
 * Publishes every ingested-but-unpublished lake event to Kafka, batch by batch, page by page, in queue order.
 * Progress is recorded in Cassandra after Kafka acknowledges a page; a crash in between re-sends that page,
 * and the consumer's sequence watermark drops the copies. Memory holds at most three pages (one in flight, one built, one read ahead).
 */
export async function publishPendingCore(deps: PublishDeps, opts: PublishOptions = {}): Promise<PublishSummary> {
  const started = Date.now();
  const ks = deps.keyspace;
  const pageSize = opts.pageSize ?? DEFAULT_PAGE;
  const maxEvents = opts.maxEvents ?? Number.POSITIVE_INFINITY;
  const log = opts.log ?? (() => undefined);
  const q = {
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
  const prepare = { prepare: true };

  const { partitions, maxBatchBytes } = await ensureTopicInfo(deps.kafka, deps.topic, deps.partitions);
  const partitionOf = defaultPartitionOf(deps.topic, partitions);
  // One request in flight keeps each partition in send order, which the consumer's watermark relies on.
  // Kafka's idempotent producer is not used: it only dedupes within one producer session and wants unlimited
  // retries; a copy from a retried request lands right after its original and the watermark drops it.
  const producer: Producer = deps.kafka.producer({
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();

  const summary: PublishSummary = {
    published: 0,
    batches: 0,
    quarantined: 0,
    ingestBatches: [],
    more: false,
    durationMs: 0,
  };
  let pagesSent = 0;

  const quarantine = (ingestBatch: string, seq: number, reason: string, raw: string) =>
    deps.cassandra.execute(q.quarantine, [ingestBatch, seq, null, reason, raw, new Date()], prepare);

  const buildPage = async (ingestBatch: string, chunk: number, rows: types.Row[]): Promise<BuiltPage> => {
    const messages: QueueMessage[] = [];
    let lastSeq = 0;
    let quarantined = 0;
    for (const row of rows) {
      const seq = Number(row['seq']);
      lastSeq = seq;
      try {
        const message = toMessage(queueRowFields(row));
        message.pub = `${ingestBatch}:${seq}`;
        const key = messageKey(message);
        messages.push({
          key,
          value: encodeMessage(message),
          partition: key === null ? partitionForEvent(message.event_id, partitions) : undefined,
          seq,
        });
      } catch (err) {
        // Ingest validation should make this impossible; if it happens the row is kept with its reason.
        quarantined += 1;
        await quarantine(ingestBatch, seq, `not publishable: ${(err as Error).message}`, JSON.stringify(row));
      }
    }
    return { chunk, messages, lastSeq, quarantined };
  };

  /**
   * One page in as many sends as the topic's batch limit needs, in queue order. A message the broker refuses
   * on its own (too large even compressed) is quarantined with stage `publish` and the page goes on.
   */
  const sendPage = (ingestBatch: string, page: BuiltPage): Promise<SizedSendResult> =>
    sendSized(producer, {
      topic: deps.topic,
      messages: page.messages,
      maxBatchBytes,
      compression: CompressionTypes.GZIP,
      acks: -1,
      partitionOf,
      onRejected: async (m, err) => {
        const value = String(m.value);
        log('message refused by the broker, quarantined', { ingestBatch, seq: m.seq, bytes: Buffer.byteLength(value) });
        await quarantine(ingestBatch, m.seq, `refused by Kafka: ${(err as { type?: string }).type ?? err.name}: ${err.message} (${Buffer.byteLength(value)} bytes)`, rawPrefix(value));
      },
    });

  try {
    const share = opts.share;
    const pending = (await deps.cassandra.execute(q.pending, [], prepare)).rows
      .map((r) => String(r['ingest_batch']))
      .filter((b) => !share || publishShareOf(b, share.count) === share.index);
    for (const ingestBatch of pending) {
      const batchRow = (await deps.cassandra.execute(q.batch, [ingestBatch], prepare)).first();
      if (!batchRow || batchRow['status'] !== 'ingested') continue; // still ingesting: next run picks it up
      const maxChunk = Number(batchRow['max_chunk'] ?? 0);
      const saved = (await deps.cassandra.execute(q.progress, [ingestBatch], prepare)).first();
      if (saved?.['completed']) {
        await deps.cassandra.execute(q.done, [ingestBatch], prepare);
        continue;
      }
      const progress: Progress = {
        nextChunk: Number(saved?.['next_chunk'] ?? 0),
        nextSeq: Number(saved?.['next_seq'] ?? 0),
        published: Number(saved?.['published'] ?? 0),
        quarantined: Number(saved?.['quarantined'] ?? 0),
        pages: Number(saved?.['pages'] ?? 0),
      };
      if (progress.published > 0 || progress.nextChunk > 0) {
        log('resuming publish', { ingestBatch, chunk: progress.nextChunk, seq: progress.nextSeq, published: progress.published });
      }
      summary.ingestBatches.push(ingestBatch);
      const save = (completed: boolean) =>
        deps.cassandra.execute(
          q.saveProgress,
          [ingestBatch, progress.nextChunk, progress.nextSeq, progress.published, progress.quarantined, progress.pages, completed, new Date()],
          prepare,
        );

      // Page k+1 is read and built while page k is in flight, and page k's progress row is written while page
      // k+1 is in flight. Sends stay one at a time, in queue order, which the consumer's watermark relies on.
      let inFlight: { page: BuiltPage; ack: Promise<SizedSendResult> } | undefined;
      let saving: Promise<unknown> = Promise.resolve();
      const acknowledge = async (flight: { page: BuiltPage; ack: Promise<SizedSendResult> }): Promise<void> => {
        const { page } = flight;
        const sent = await flight.ack;
        // Rows the broker refused alone are quarantined (and their rows written) before the send resolves.
        const quarantined = page.quarantined + sent.rejected;
        await saving; // the previous page's row lands before this page's position can be recorded
        pagesSent += 1;
        opts.afterSend?.(pagesSent);
        progress.nextChunk = page.chunk;
        progress.nextSeq = page.lastSeq + 1;
        progress.published += sent.sent;
        progress.quarantined += quarantined;
        progress.pages += 1;
        saving = save(false);
        saving.catch(() => undefined); // awaited before the next position or the return; not unhandled meanwhile
        summary.published += sent.sent;
        summary.quarantined += quarantined;
        summary.batches += 1;
        deps.metrics?.inc('trackflow_publish_events_total', 'Events published to Kafka', sent.sent);
        if (quarantined) deps.metrics?.inc('trackflow_publish_quarantined_total', 'Lake rows not publishable', quarantined);
        opts.onProgress?.({ ingestBatch, chunk: page.chunk, seq: progress.nextSeq, published: progress.published, totalPublished: summary.published });
      };

      for (let chunk = progress.nextChunk; chunk <= maxChunk; chunk++) {
        const fromSeq = chunk === progress.nextChunk ? progress.nextSeq : 0;
        const fetchPage = (state: string | undefined): Promise<types.ResultSet> => {
          const read = deps.cassandra.execute(q.page, [ingestBatch, chunk, fromSeq], { prepare: true, fetchSize: pageSize, pageState: state });
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
          const page = await buildPage(ingestBatch, chunk, rs.rows);
          if (inFlight) {
            await acknowledge(inFlight);
            inFlight = undefined;
            if (summary.published >= maxEvents) {
              // Let the read-ahead finish before the caller may shut the client down.
              await next?.catch(() => undefined);
              await saving;
              summary.more = true;
              return summary;
            }
          }
          const ack = page.messages.length ? sendPage(ingestBatch, page) : Promise.resolve({ sent: 0, rejected: 0, sends: 0 });
          ack.catch(() => undefined); // awaited in acknowledge(); not unhandled while the next page is built
          inFlight = { page, ack };
        }
      }
      if (inFlight) {
        await acknowledge(inFlight);
        if (summary.published >= maxEvents) {
          await saving;
          summary.more = true;
          return summary;
        }
      }
      await saving;
      await save(true);
      await deps.cassandra.execute(q.done, [ingestBatch], prepare);
      log('batch published', { ingestBatch, published: progress.published, quarantined: progress.quarantined });
    }
    return summary;
  } finally {
    summary.durationMs = Date.now() - started;
    await producer.disconnect().catch(() => undefined);
  }
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
