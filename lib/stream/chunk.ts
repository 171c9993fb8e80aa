import type { KafkaMessage } from 'kafkajs';
import { decodeMessage, PoisonMessageError } from '../domain/message';
import type { TrackingMessageV1 } from '../domain/message';
import { classify } from '../domain/transform';
import type { CountableEvent } from '../domain/transform';
import { messageOrigin } from '../publish/headers';
import type { PublishOrigin } from '../publish/headers';
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

type Verdict =
  | { kind: Exclude<OriginKind, 'deadLettered'>; decoded: TrackingMessageV1; event?: CountableEvent; origin?: PublishOrigin }
  | { kind: 'deadLettered'; error: Error; eventId?: string };

/** Decode, classify, and check every field that reaches MySQL against its column (lib/stream/columns.ts). */
function judge(m: KafkaMessage): Verdict {
  let decoded: TrackingMessageV1 | undefined;
  try {
    decoded = decodeMessage(m.value);
    const origin = messageOrigin(decoded, m.headers as Record<string, unknown> | undefined);
    if (origin) checkOriginColumns(origin);
    const c = classify(decoded);
    if (c.kind !== 'countable') return { kind: c.kind, decoded, origin };
    checkEventColumns(c.event);
    return { kind: 'countable', decoded, event: c.event, origin };
  } catch (err) {
    if (!(err instanceof PoisonMessageError) && !(err instanceof TypeError) && !(err instanceof RangeError)) throw err;
    return { kind: 'deadLettered', error: err, eventId: decoded?.event_id };
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
    const refused = forced.get(m.offset);
    const v: Verdict = refused ? { kind: 'deadLettered', error: refused } : judge(m);
    if (v.kind === 'deadLettered') {
      chunk.poison.push({ message: m, error: v.error, ...(v.eventId ? { eventId: v.eventId } : {}) });
      chunk.counts.deadLettered += 1;
      continue;
    }
    if (v.kind === 'countable') chunk.countable.push({ event: v.event as CountableEvent, offset: m.offset });
    else chunk.counts[v.kind] += 1;
    if (v.origin) chunk.origins.push({ ...v.origin, offset: m.offset, kind: v.kind });
  }
  return chunk;
}
