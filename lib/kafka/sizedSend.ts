import type { CompressionTypes, Message, PartitionMetadata, Producer } from 'kafkajs';
import { Partitioners } from 'kafkajs';

/** Kafka's default `max.message.bytes` (topic) / `message.max.bytes` (broker): one record batch, after compression. */
export const DEFAULT_MAX_BATCH_BYTES = 1_048_576;

/**
 * Producer errors that belong to the records of a send, not to the cluster: the same send fails the same way
 * on every retry, while a smaller piece of it may succeed. Anything else (authorization, unknown topic, an
 * outage) fails every piece alike, so it is not split but raised to the caller's retry.
 */
const RECORD_ERROR_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
]);

export function isRecordError(err: unknown): boolean {
  for (let e = err as { type?: unknown; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.type === 'string' && RECORD_ERROR_TYPES.has(e.type)) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

/**
 * The bytes a message takes in a v2 record batch, uncompressed, rounded up: key, value and headers plus
 * the varint lengths, attributes and deltas (at most ~40 bytes a record, ~10 a header).
 */
export function encodedSize(m: Message): number {
  let size = 40 + byteLength(m.key) + byteLength(m.value);
  if (!m.headers) return size;
  for (const [k, v] of Object.entries(m.headers)) {
    const values = Array.isArray(v) ? v : [v];
    for (const one of values) size += 10 + Buffer.byteLength(k) + byteLength(one as Buffer | string | undefined);
  }
  return size;
}

/**
 * The budget of one send's record batch: the broker limit less the batch header and a margin for
 * compression that does not pay off (deflate adds ~5 bytes per 64 KiB on incompressible input, zstd at most
 * 1/256 of it: ZSTD_compressBound).
 */
export function batchBudget(maxBatchBytes: number): number {
  return Math.max(1024, Math.floor(maxBatchBytes * 0.98) - 512);
}

/**
 * Splits messages, in order, into sends whose every partition's uncompressed record batch stays within the
 * budget. A message larger than the budget on its own gets a send of its own (the broker decides; the
 * caller handles its rejection). Pure.
 */
export function splitBySize<M extends Message>(messages: M[], budget: number, partitionOf: (m: M) => number = () => 0): M[][] {
  const out: M[][] = [];
  let current: M[] = [];
  let sizes: number[] = [];
  for (const m of messages) {
    const size = encodedSize(m);
    const p = partitionOf(m);
    if (current.length && (sizes[p] ?? 0) + size > budget) {
      out.push(current);
      current = [];
      sizes = [];
    }
    current.push(m);
    sizes[p] = (sizes[p] ?? 0) + size;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * kafkajs's default partitioner, applied ahead of the send so that sizes can be counted per partition.
 * Keys (job ids) repeat, so their partitions are cached: murmur2 over a fresh Buffer per message would cost
 * about a microsecond each.
 */
export function defaultPartitionOf(topic: string, partitions: number): (m: Message) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }) as PartitionMetadata);
  const byKey = new Map<string, number>();
  return (message) => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (typeof message.key !== 'string') return partitioner({ topic, partitionMetadata, message });
    let p = byKey.get(message.key);
    if (p === undefined) {
      p = partitioner({ topic, partitionMetadata, message });
      if (byKey.size < 100_000) byKey.set(message.key, p);
    }
    return p;
  };
}

export interface SizedSendOptions<M extends Message> {
  topic: string;
  messages: M[];
  maxBatchBytes: number;
  compression?: CompressionTypes;
  acks?: number;
  partitionOf?: (m: M) => number;
  /**
   * A single message the broker refuses for itself (too large, invalid). The send goes on without it; the
   * caller quarantines or dead-letters it. Without this callback the error is thrown.
   */
  onRejected?: (message: M, error: Error) => Promise<void> | void;
}

export interface SizedSendResult {
  sent: number;
  rejected: number;
  sends: number;
}

/**
 * Sends `messages` in order in as few sends as fit the broker's batch limit. A send the broker refuses for
 * its records is halved and each half sent in turn, down to single messages, which go to `onRejected`; so a
 * record error is never retried as it was, and one bad message never holds up the others. Other errors are
 * thrown. Halves go out one after the other, so each partition keeps the order of `messages`.
 */
export async function sendSized<M extends Message>(producer: Producer, opts: SizedSendOptions<M>): Promise<SizedSendResult> {
  const result: SizedSendResult = { sent: 0, rejected: 0, sends: 0 };
  for (const piece of splitBySize(opts.messages, batchBudget(opts.maxBatchBytes), opts.partitionOf)) {
    await sendOrSplit(producer, opts, piece, result);
  }
  return result;
}

async function sendOrSplit<M extends Message>(producer: Producer, opts: SizedSendOptions<M>, piece: M[], result: SizedSendResult): Promise<void> {
  try {
    result.sends += 1;
    await producer.send({ topic: opts.topic, messages: piece, acks: opts.acks ?? -1, compression: opts.compression });
    result.sent += piece.length;
  } catch (err) {
    if (!isRecordError(err)) throw err;
    if (piece.length === 1) {
      if (!opts.onRejected) throw err;
      await opts.onRejected(piece[0] as M, err as Error);
      result.rejected += 1;
      return;
    }
    const half = Math.ceil(piece.length / 2);
    await sendOrSplit(producer, opts, piece.slice(0, half), result);
    await sendOrSplit(producer, opts, piece.slice(half), result);
  }
}
