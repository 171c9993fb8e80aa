import type { KafkaMessage } from 'kafkajs';
import { decodeMessage, PoisonMessageError } from '../domain/message';
import type { TrackingMessageV1 } from '../domain/message';
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
  let decoded: TrackingMessageV1 | undefined;
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
