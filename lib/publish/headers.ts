import { checkBatchName } from '../domain/message';

/**
 * A published message's position in the lake's publish queue. The consumer keeps a per-partition high-water
 * mark of `seq` per ingest batch, so a page re-sent after a publisher crash is recognised and skipped
 * (docs/publish.md explains why this is exact). The publisher writes it in the value's `pub` field (kafkajs
 * spends a third of its send time encoding record headers); the headers below are still read, for messages
 * from publishers that used them.
 */
export const PUBLISH_HEADERS = {
  batch: 'trackflow-batch',
  seq: 'trackflow-seq',
} as const;

export interface PublishOrigin {
  batch: string;
  seq: number;
}

/** The position a v1 message carries in its `pub` field (`<batch>:<seq>`), if any. */
export function originFromPub(pub: string | undefined): PublishOrigin | undefined {
  if (!pub) return undefined;
  const at = pub.lastIndexOf(':');
  const seq = Number(pub.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { batch: pub.slice(0, at), seq };
}

/**
 * Where a consumed message came from in the publish queue: the position a v2 value carries, the `pub`
 * field of a v1 value, or (messages from publishers before that field) its headers.
 */
export function messageOrigin(
  decoded: { pub?: string; origin?: PublishOrigin } | undefined,
  headers: Record<string, unknown> | undefined,
): PublishOrigin | undefined {
  return decoded?.origin ?? originFromPub(decoded?.pub) ?? readOrigin(headers);
}

/** Throws PoisonMessageError when the header's batch name cannot be stored (an origin is never silently dropped). */
export function readOrigin(headers: Record<string, unknown> | undefined): PublishOrigin | undefined {
  if (!headers) return undefined;
  const batch = headers[PUBLISH_HEADERS.batch];
  const seq = headers[PUBLISH_HEADERS.seq];
  if (batch === undefined || seq === undefined) return undefined;
  checkBatchName(String(batch), `header ${PUBLISH_HEADERS.batch}`);
  const seqNumber = Number(String(seq));
  if (!Number.isSafeInteger(seqNumber) || seqNumber < 0) return undefined;
  return { batch: String(batch), seq: seqNumber };
}
