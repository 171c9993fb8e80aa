import { isTimeUuid, timeUuidDate, validTimeUuidMillis } from './timeuuid';
import { PoisonMessageError } from './errors';

/**
 * The Kafka message contract, version 1 (docs/publish.md, "Message contract (v1)").
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

function nullableNumber(obj: Record<string, unknown>, field: string): number | null {
  const value = obj[field];
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PoisonMessageError(`field ${field} must be a finite number or null, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Parses and validates a message value; anything that does not fit the contract is poison. */
export function decodeMessage(value: Buffer | string | null): TrackingMessageV1 {
  if (value === null) throw new PoisonMessageError('message has no value');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (err) {
    throw new PoisonMessageError(`value is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new PoisonMessageError('value is not a JSON object');
  }
  const obj = parsed as Record<string, unknown>;
  if (obj['v'] !== 1) throw new PoisonMessageError(`unsupported message version ${JSON.stringify(obj['v'])}`);
  const eventId = obj['event_id'];
  if (typeof eventId !== 'string' || !isTimeUuid(eventId)) {
    throw new PoisonMessageError(`event_id is not a version-1 time UUID: ${JSON.stringify(eventId)}`);
  }
  const track = obj['custom_track'];
  if (track !== null && track !== undefined && typeof track !== 'string') {
    throw new PoisonMessageError(`field custom_track must be a string or null, got ${JSON.stringify(track)}`);
  }
  const ts = obj['ts'];
  const pub = obj['pub'];
  if (pub !== undefined && (typeof pub !== 'string' || !/^[^:]+:\d{1,15}$/.test(pub))) {
    throw new PoisonMessageError(`field pub must be "<batch>:<seq>", got ${JSON.stringify(pub).slice(0, 200)}`);
  }
  if (pub !== undefined) checkBatchName(pub.slice(0, pub.lastIndexOf(':')), 'field pub');
  return {
    v: 1,
    event_id: eventId.toLowerCase(),
    ts: typeof ts === 'string' ? ts : timeUuidDate(eventId).toISOString(),
    job_id: nullableNumber(obj, 'job_id'),
    custom_track: (track as string | null | undefined) ?? null,
    bid: nullableNumber(obj, 'bid'),
    campaign_id: nullableNumber(obj, 'campaign_id'),
    group_id: nullableNumber(obj, 'group_id'),
    publisher_id: nullableNumber(obj, 'publisher_id'),
    ...(pub === undefined ? {} : { pub }),
  };
}
