/**
 * Headers every published message carries: its position in the lake's publish queue. The consumer keeps a
 * per-partition high-water mark of `seq` per ingest batch, so a page re-sent after a publisher crash is
 * recognised and skipped (docs/publish.md explains why this is exact).
 */
export const PUBLISH_HEADERS = {
  batch: 'trackflow-batch',
  seq: 'trackflow-seq',
} as const;

export interface PublishOrigin {
  batch: string;
  seq: number;
}

export function readOrigin(headers: Record<string, unknown> | undefined): PublishOrigin | undefined {
  if (!headers) return undefined;
  const batch = headers[PUBLISH_HEADERS.batch];
  const seq = headers[PUBLISH_HEADERS.seq];
  if (batch === undefined || seq === undefined) return undefined;
  const seqNumber = Number(String(seq));
  if (!Number.isSafeInteger(seqNumber) || seqNumber < 0) return undefined;
  return { batch: String(batch), seq: seqNumber };
}
