import { isUtf8 } from 'node:buffer';
import { isTimeUuid, validTimeUuidMillis } from './timeuuid';

/** The tracking export's header: an unnamed row-number column, then 29 named columns (DATA_CONTRACT.md). */
export const TRACKING_COLUMNS = [
  '',
  'create_time',
  'bid',
  'bn',
  'campaign_id',
  'cd',
  'custom_track',
  'de',
  'dl',
  'dt',
  'ed',
  'ev',
  'group_id',
  'id',
  'job_id',
  'md',
  'publisher_id',
  'rl',
  'sr',
  'ts',
  'tz',
  'ua',
  'uid',
  'utm_campaign',
  'utm_content',
  'utm_medium',
  'utm_source',
  'utm_term',
  'v',
  'vp',
] as const;

export const TRACKING_COLUMN_COUNT = TRACKING_COLUMNS.length;

/** Lake column names, same order as TRACKING_COLUMNS: the unnamed first column is stored as row_number. */
export const LAKE_COLUMNS: readonly string[] = ['row_number', ...TRACKING_COLUMNS.slice(1)];

/** Stored as double. `row_number` is the exporter's integer counter (bigint). */
export const NUMERIC_COLUMNS: ReadonlySet<string> = new Set([
  'bid',
  'campaign_id',
  'cd',
  'ev',
  'group_id',
  'job_id',
  'publisher_id',
  'tz',
  'v',
]);

const COL = Object.fromEntries(LAKE_COLUMNS.map((c, i) => [c, i])) as Record<string, number>;
export const IDX = {
  rowNumber: 0,
  createTime: COL['create_time']!,
  bid: COL['bid']!,
  campaignId: COL['campaign_id']!,
  customTrack: COL['custom_track']!,
  groupId: COL['group_id']!,
  jobId: COL['job_id']!,
  publisherId: COL['publisher_id']!,
};

const IS_NUMERIC: boolean[] = LAKE_COLUMNS.map((c) => NUMERIC_COLUMNS.has(c));

/** Decimal numbers only: `Number()` alone would also accept '', ' ', '0x1f' and 'Infinity'. */
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+(?:\.0*)?$/;

export type LakeValue = string | number | null;

/** One valid event: `values` follow LAKE_COLUMNS; empty fields are null (no cell written). */
export interface TrackingRow {
  createTime: string;
  hour: string;
  values: LakeValue[];
}

export type RowCheck = { ok: true; row: TrackingRow } | { ok: false; reason: string };

export type RejectReason =
  | 'column_count'
  | 'invalid_number'
  | 'invalid_create_time'
  | 'invalid_utf8';

/** Machine-readable reason prefix (before the colon) so tests and dashboards can group rejects. */
export function reasonKind(reason: string): string {
  return reason.split(':', 1)[0] ?? reason;
}

const HOUR_MS = 3_600_000;
const hourCache = new Map<number, string>();

/** hourBucket() for a validated v1 UUID, with the hour's string built once per hour instead of once per row. */
export function fastHourBucket(uuid: string): string {
  const ms = validTimeUuidMillis(uuid);
  const h = Math.floor(ms / HOUR_MS);
  let s = hourCache.get(h);
  if (s === undefined) {
    if (hourCache.size > 100_000) hourCache.clear();
    s = new Date(h * HOUR_MS).toISOString().slice(0, 13);
    hourCache.set(h, s);
  }
  return s;
}

/** Returns an error message, or undefined when the header is exactly the expected 30 columns. */
export function checkHeader(found: readonly string[]): string | undefined {
  const same =
    found.length === TRACKING_COLUMN_COUNT && found.every((name, i) => name.trim() === TRACKING_COLUMNS[i]);
  if (same) return undefined;
  return (
    `unexpected tracking CSV header: expected ${TRACKING_COLUMN_COUNT} columns ` +
    `[${TRACKING_COLUMNS.map((c) => JSON.stringify(c)).join(',')}], ` +
    `found ${found.length} columns [${found.map((c) => JSON.stringify(c)).join(',')}]`
  );
}

/** Decodes one parsed record; invalid UTF-8 is detected on the bytes, before any replacement happens. */
export function decodeFields(
  fields: readonly (Buffer | string)[],
  raw?: Buffer,
): { fields: string[]; invalidUtf8Column?: number } {
  const out: string[] = new Array<string>(fields.length);
  let invalid: number | undefined;
  // One check over the whole record; per-field checks only to name the column when it fails.
  const allValid = raw !== undefined && isUtf8(raw);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (typeof f === 'string') {
      out[i] = f;
    } else {
      if (!allValid && invalid === undefined && f.length > 0 && !isUtf8(f)) invalid = i;
      out[i] = f.toString('utf8');
    }
  }
  return invalid === undefined ? { fields: out } : { fields: out, invalidUtf8Column: invalid };
}

/**
 * Validates and types one data record. Rejects: wrong column count, unparsable number in a numeric
 * column, create_time that is not a version-1 time UUID, invalid UTF-8. Empty fields are null.
 */
export function checkRecord(fields: readonly string[], invalidUtf8Column?: number): RowCheck {
  if (fields.length !== TRACKING_COLUMN_COUNT) {
    return { ok: false, reason: `column_count: expected ${TRACKING_COLUMN_COUNT} fields, found ${fields.length}` };
  }
  if (invalidUtf8Column !== undefined) {
    return { ok: false, reason: `invalid_utf8: column ${LAKE_COLUMNS[invalidUtf8Column]} is not valid UTF-8` };
  }
  const createTime = fields[IDX.createTime]!.trim().toLowerCase();
  if (!isTimeUuid(createTime)) {
    return {
      ok: false,
      reason: `invalid_create_time: not a version-1 time UUID: ${JSON.stringify(fields[IDX.createTime]!.slice(0, 60))}`,
    };
  }
  const values: LakeValue[] = new Array<LakeValue>(TRACKING_COLUMN_COUNT);
  const rn = fields[0]!.trim();
  if (rn === '') values[0] = null;
  else if (INTEGER_RE.test(rn) && Number.isSafeInteger(Math.trunc(Number(rn)))) values[0] = Math.trunc(Number(rn));
  else return { ok: false, reason: `invalid_number: column row_number is not an integer: ${JSON.stringify(rn.slice(0, 40))}` };
  values[IDX.createTime] = createTime;
  for (let i = 2; i < TRACKING_COLUMN_COUNT; i++) {
    const raw = fields[i]!;
    if (IS_NUMERIC[i]) {
      const s = raw.trim();
      if (s === '') {
        values[i] = null;
      } else if (NUMBER_RE.test(s)) {
        values[i] = Number(s);
      } else {
        return {
          ok: false,
          reason: `invalid_number: column ${LAKE_COLUMNS[i]} is not a number: ${JSON.stringify(s.slice(0, 40))}`,
        };
      }
    } else {
      values[i] = raw === '' ? null : raw;
    }
  }
  return { ok: true, row: { createTime, hour: fastHourBucket(createTime), values } };
}

const NEEDS_QUOTES = /[",\r\n]/;

/** Re-serialises a record as one CSV line, for the quarantine's `raw` column. */
export function toCsvLine(fields: readonly string[]): string {
  return fields.map((f) => (NEEDS_QUOTES.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}
