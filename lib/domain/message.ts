import { isTimeUuid, timeUuidDate, validTimeUuidMillis } from './timeuuid';
import { PoisonMessageError } from './errors';

/**
 * The Kafka message contract, version 1 (docs/publish.md, "Message contract"). Version 2 (below) carries
 * the same fields as a positional JSON array; the consumer reads both.
 * Key: the job id as a decimal string (null when the event has no job). Value: compact JSON.
 * Nulls stay null on the wire: filling them with 0 is the consumer's business rule.
 */
export interface TrackingMessageV1 {
  v: 1;
  event_id: string;
  ts: string;
  job_id: number | null;
  custom_track: string | null;
  bid: number | null;
  campaign_id: number | null;
  group_id: number | null;
  publisher_id: number | null;
  /**
   * Publish position `<ingest batch>:<queue seq>`, set by the publisher. The consumer's watermark uses it to
   * drop copies re-sent after a publisher crash. Absent on messages produced by anything else.
   */
  pub?: string;
}

/** Where a published message sits in the lake's publish queue: ingest batch and queue seq. */
export interface QueuePosition {
  batch: string;
  seq: number;
}

/** The message versions the consumer reads; the publisher writes TRACKFLOW_KAFKA_MESSAGE_VERSION. */
export const MESSAGE_VERSIONS = [1, 2] as const;
export type MessageVersion = (typeof MESSAGE_VERSIONS)[number];

/**
 * A decoded message of either version, validated. `ts` (the tracker's time, informational) is only in v1;
 * the publish position is `pub` text in v1 and `origin` in v2.
 */
export interface DecodedMessage {
  v: MessageVersion;
  event_id: string;
  ts?: string;
  job_id: number | null;
  custom_track: string | null;
  bid: number | null;
  campaign_id: number | null;
  group_id: number | null;
  publisher_id: number | null;
  pub?: string;
  origin?: QueuePosition;
}

export interface LakeEventFields {
  create_time: string;
  job_id: number | null;
  custom_track: string | null;
  bid: number | null;
  campaign_id: number | null;
  group_id: number | null;
  publisher_id: number | null;
}

export { PoisonMessageError };

/** publish_watermarks.ingest_batch is VARCHAR(64): characters (utf8mb4), not bytes. */
export const MAX_BATCH_NAME_CHARS = 64;

/** Throws PoisonMessageError for a publish batch name the watermark table cannot hold. */
export function checkBatchName(batch: string, where: string): void {
  if (batch.length <= MAX_BATCH_NAME_CHARS) return; // UTF-16 units never undercount characters
  let chars = 0;
  for (const _ of batch) if (++chars > MAX_BATCH_NAME_CHARS) break;
  if (chars > MAX_BATCH_NAME_CHARS) {
    throw new PoisonMessageError(`${where}: batch name is longer than ${MAX_BATCH_NAME_CHARS} characters (${batch.length} UTF-16 units)`);
  }
}

const NUMBER_FIELDS = ['job_id', 'bid', 'campaign_id', 'group_id', 'publisher_id'] as const;

/** JSON has no Infinity or NaN: JSON.stringify would write null, and a click would count with bid 0. */
function checkFinite(fields: Pick<LakeEventFields, (typeof NUMBER_FIELDS)[number]>): void {
  for (const f of NUMBER_FIELDS) {
    const value = fields[f];
    if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new PoisonMessageError(`field ${f} must be a finite number or null, got ${String(value)}`);
    }
  }
}

export function toMessage(event: LakeEventFields): TrackingMessageV1 {
  if (!isTimeUuid(event.create_time)) throw new PoisonMessageError(`create_time is not a time UUID: ${event.create_time}`);
  checkFinite(event);
  return {
    v: 1,
    event_id: event.create_time,
    ts: new Date(validTimeUuidMillis(event.create_time)).toISOString(),
    job_id: event.job_id,
    custom_track: event.custom_track,
    bid: event.bid,
    campaign_id: event.campaign_id,
    group_id: event.group_id,
    publisher_id: event.publisher_id,
  };
}

export function messageKey(message: TrackingMessageV1): string | null {
  return message.job_id === null ? null : String(message.job_id);
}

export function encodeMessage(message: TrackingMessageV1): string {
  checkFinite(message);
  return JSON.stringify(message);
}

/** A v1 field: absent reads as null, as in v2's fixed positions. */
function nullableNumber(obj: Record<string, unknown>, field: string): number | null {
  return nullableElement(obj[field] ?? null, field);
}

/**
 * Parses and validates a message value of either version (a JSON object is v1, a JSON array v2); anything
 * that does not fit the contract is poison.
 */
export function decodeMessage(value: Buffer | string | null): DecodedMessage {
  if (value === null) throw new PoisonMessageError('message has no value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError(`value is not valid JSON: ${(err as Error).message}`);
  }
  if (Array.isArray(parsed)) return decodeV2(parsed);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new PoisonMessageError('value is not a JSON object or array');
  }
  return decodeV1(parsed as Record<string, unknown>);
}

function decodeV1(obj: Record<string, unknown>): DecodedMessage {
  if (obj['v'] !== 1) throw new PoisonMessageError(`unsupported message version ${JSON.stringify(obj['v'])}`);
  const eventId = checkEventId(obj['event_id']);
  const track = obj['custom_track'];
  checkTrack(track);
  const ts = obj['ts'];
  const pub = obj['pub'];
  if (pub !== undefined) checkBatchName(pubPosition(pub).batch, 'field pub');
  return {
    v: 1,
    event_id: eventId,
    ts: typeof ts === 'string' ? ts : timeUuidDate(eventId).toISOString(),
    job_id: nullableNumber(obj, 'job_id'),
    custom_track: (track as string | null | undefined) ?? null,
    bid: nullableNumber(obj, 'bid'),
    campaign_id: nullableNumber(obj, 'campaign_id'),
    group_id: nullableNumber(obj, 'group_id'),
    publisher_id: nullableNumber(obj, 'publisher_id'),
    ...(pub === undefined ? {} : { pub: pub as string }),
  };
}

/** A v1 time UUID, lower-cased (the ledger and the warehouse key on it). */
function checkEventId(eventId: unknown): string {
  if (typeof eventId !== 'string' || !isTimeUuid(eventId)) {
    throw new PoisonMessageError(`event_id is not a version-1 time UUID: ${JSON.stringify(eventId)}`);
  }
  return eventId.toLowerCase();
}

function checkTrack(track: unknown): asserts track is string | null | undefined {
  if (track !== null && track !== undefined && typeof track !== 'string') {
    throw new PoisonMessageError(`field custom_track must be a string or null, got ${JSON.stringify(track)}`);
  }
}

/**
 * Message contract v2: the v1 fields as a JSON array in a fixed order, without the field names and
 * without `ts` (the event time is the event id's), the publish position as two elements:
 *
 *   [2, event_id, job_id, custom_track, bid, campaign_id, group_id, publisher_id, pub_batch, pub_seq]
 *
 * pub_batch and pub_seq are both null when the message has no publish position. Still JSON, so a string
 * field needs no escaping rules of its own.
 */
const V2_LENGTH = 10;

/** One decimal seq of at most 15 digits, as v1's `pub` allows. */
const MAX_PUB_SEQ = 10 ** 15 - 1;

/** The v2 value of a lake event, published from queue position `origin`; refuses what toMessage refuses. */
export function encodeEventV2(event: LakeEventFields, origin: QueuePosition | undefined): string {
  if (!isTimeUuid(event.create_time)) throw new PoisonMessageError(`create_time is not a time UUID: ${event.create_time}`);
  checkFinite(event);
  return JSON.stringify([
    2,
    event.create_time,
    event.job_id,
    event.custom_track,
    event.bid,
    event.campaign_id,
    event.group_id,
    event.publisher_id,
    origin ? origin.batch : null,
    origin ? origin.seq : null,
  ]);
}

/** A v1 message in the given version's form (tests, benches, tools). */
export function encodeMessageAs(version: MessageVersion, message: TrackingMessageV1): string {
  return version === 2 ? encodeMessageV2(message) : encodeMessage(message);
}

/** A v1 message in v2 form: the same fields, `ts` dropped. */
export function encodeMessageV2(message: TrackingMessageV1): string {
  return encodeEventV2({ ...message, create_time: message.event_id }, message.pub === undefined ? undefined : pubPosition(message.pub));
}

/** `<batch>:<seq>` as a position; what v1's decoder would refuse is poison here too. */
function pubPosition(pub: unknown): QueuePosition {
  if (typeof pub !== 'string' || !/^[^:]+:\d{1,15}$/.test(pub)) throw new PoisonMessageError(`field pub must be "<batch>:<seq>", got ${JSON.stringify(pub).slice(0, 200)}`);
  const at = pub.lastIndexOf(':');
  return { batch: pub.slice(0, at), seq: Number(pub.slice(at + 1)) };
}

function decodeV2(arr: unknown[]): DecodedMessage {
  if (arr[0] !== 2) throw new PoisonMessageError(`unsupported message version ${JSON.stringify(arr[0])}`);
  if (arr.length !== V2_LENGTH) throw new PoisonMessageError(`a v2 message has ${V2_LENGTH} elements, got ${arr.length}`);
  const eventId = checkEventId(arr[1]);
  const track = arr[3];
  checkTrack(track);
  const origin = v2Origin(arr[8], arr[9]);
  return {
    v: 2,
    event_id: eventId,
    job_id: nullableElement(arr[2], 'job_id'),
    custom_track: track ?? null,
    bid: nullableElement(arr[4], 'bid'),
    campaign_id: nullableElement(arr[5], 'campaign_id'),
    group_id: nullableElement(arr[6], 'group_id'),
    publisher_id: nullableElement(arr[7], 'publisher_id'),
    ...(origin === undefined ? {} : { origin }),
  };
}

function nullableElement(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PoisonMessageError(`field ${field} must be a finite number or null, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Both null, or a batch name v1's `pub` could carry (no colon, fits the watermark) and a seq of <= 15 digits. */
function v2Origin(batch: unknown, seq: unknown): QueuePosition | undefined {
  if (batch === null && seq === null) return undefined;
  if (typeof batch !== 'string' || batch === '' || batch.includes(':')) {
    throw new PoisonMessageError(`pub_batch must be a non-empty name without ":", got ${JSON.stringify(batch).slice(0, 200)}`);
  }
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq > MAX_PUB_SEQ) {
    throw new PoisonMessageError(`pub_seq must be an integer 0..${MAX_PUB_SEQ}, got ${JSON.stringify(seq)}`);
  }
  checkBatchName(batch, 'field pub_batch');
  return { batch, seq };
}
