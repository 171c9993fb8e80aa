import type { KafkaMessage } from 'kafkajs';
import { decodeMessage, PoisonMessageError } from '../domain/message';
import type { DecodedMessage } from '../domain/message';
import { classify } from '../domain/transform';
import type { CountableEvent } from '../domain/transform';
import { messageOrigin } from '../publish/headers';
import { checkEventColumns, checkOriginColumns } from './columns';
import type { MessageOrigin, OriginKind, StageCounts } from './commit';
import type { PoisonMessage } from './deadLetter';

/** One chunk of a partition's messages, decoded, classified and checked: what one transaction commits. */
export interface PreparedChunk {
  countable: Array<{ event: CountableEvent; offset: string }>;
  poison: Array<PoisonMessage & { eventId?: string }>;
  counts: StageCounts;
  origins: MessageOrigin[];
}

function isPoison(err: unknown): err is Error {
  return err instanceof PoisonMessageError || err instanceof TypeError || err instanceof RangeError;
}

function addPoison(chunk: PreparedChunk, message: KafkaMessage, error: Error, eventId?: string): void {
  chunk.poison.push(eventId ? { message, error, eventId } : { message, error });
  chunk.counts.deadLettered += 1;
}

/**
 * Decode, classify, and check every field that reaches MySQL against its column (lib/stream/columns.ts).
 * Counts and lists are written only once every check of the message passed. Kept in one loop, without
 * intermediate verdict objects: this runs for every message of the stream.
 */
function judgeInto(chunk: PreparedChunk, m: KafkaMessage): void {
  let decoded: DecodedMessage | undefined;
  try {
    decoded = decodeMessage(m.value);
    const origin = messageOrigin(decoded, m.headers as Record<string, unknown> | undefined);
    if (origin) checkOriginColumns(origin);
    const c = classify(decoded);
    let kind: OriginKind;
    if (c.kind === 'countable') {
      checkEventColumns(c.event);
      chunk.countable.push({ event: c.event, offset: m.offset });
      kind = 'countable';
    } else {
      chunk.counts[c.kind] += 1;
      kind = c.kind;
    }
    if (origin) chunk.origins.push({ batch: origin.batch, seq: origin.seq, offset: m.offset, kind });
  } catch (err) {
    if (!isPoison(err)) throw err;
    addPoison(chunk, m, err, decoded?.event_id);
  }
}

/**
 * Prepares a chunk. `forced` names messages (by offset) that a stage after these checks refused (a MySQL
 * data error isolated by splitting): they are dead-lettered with that reason. A dead-lettered message's
 * publish origin is not recorded: it may be what the watermark table refused.
 */
export function prepareChunk(messages: KafkaMessage[], forced: ReadonlyMap<string, Error> = new Map()): PreparedChunk {
  const chunk: PreparedChunk = {
    countable: [],
    poison: [],
    counts: { consumed: messages.length, filtered: 0, unattributed: 0, deadLettered: 0 },
    origins: [],
  };
  for (const m of messages) {
    const refused = forced.size ? forced.get(m.offset) : undefined;
    if (refused) addPoison(chunk, m, refused);
    else judgeInto(chunk, m);
  }
  return chunk;
}

/** A run of one partition's messages committed as one transaction, from `expected` through `lastOffset`. */
export interface Piece {
  partition: number;
  messages: KafkaMessage[];
  /** The stored offset the transaction must find (compare-and-set). */
  expected: string;
  lastOffset: string;
  /** Offsets of this kafkajs batch already dead-lettered. */
  sentToDlq: Set<string>;
}

/**
 * The chunks of a kafkajs batch, `chunkSize` messages each, with the offset each one advances to. The last
 * ends at the batch's own last offset, which may lie past its last message (compacted or control records).
 */
export function planChunks(
  messages: KafkaMessage[],
  chunkSize: number,
  batchLastOffset: string,
): Array<{ messages: KafkaMessage[]; lastOffset: string }> {
  const out: Array<{ messages: KafkaMessage[]; lastOffset: string }> = [];
  for (let i = 0; i < messages.length; i += chunkSize) {
    const slice = messages.slice(i, i + chunkSize);
    const isLast = i + chunkSize >= messages.length;
    out.push({ messages: slice, lastOffset: isLast ? batchLastOffset : (slice[slice.length - 1] as KafkaMessage).offset });
  }
  return out;
}

/** The offset stored after a piece commits: the one after its last. */
export function offsetAfter(lastOffset: string): string {
  return (BigInt(lastOffset) + 1n).toString();
}

/**
 * The two halves of a piece MySQL refused for a value: the first ends at its last message, the second keeps
 * the piece's end. The second's `expected` is filled in once the first has committed.
 */
export function halves(piece: Piece): [Piece, Omit<Piece, 'expected'>] {
  const half = Math.ceil(piece.messages.length / 2);
  const first = { ...piece, messages: piece.messages.slice(0, half), lastOffset: (piece.messages[half - 1] as KafkaMessage).offset };
  const second = { partition: piece.partition, messages: piece.messages.slice(half), lastOffset: piece.lastOffset, sentToDlq: piece.sentToDlq };
  return [first, second];
}
