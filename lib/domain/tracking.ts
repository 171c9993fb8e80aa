import { isUtf8 } from 'node:buffer';
import { isTimeUuid, validTimeUuidMillis } from './timeuuid';

/** The tracking export's header: an unnamed row-number column, then 29 named columns (docs/data-contract.md). */
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
  /** Non-empty values of the file's columns the contract does not know, by header name. */
  extras?: Record<string, string>;
}

export type RowCheck = { ok: true; row: TrackingRow } | { ok: false; reason: string };

export type RejectReason =
  | 'column_count'
  | 'invalid_number'
  | 'invalid_bid'
  | 'record_too_large'
  | 'unparsable'
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

/** The columns the contract needs (docs/data-contract.md): a file without one of them fails before any row is read. */
export const ESSENTIAL_COLUMNS: readonly string[] = [
  'create_time',
  'custom_track',
  'job_id',
  'bid',
  'campaign_id',
  'group_id',
  'publisher_id',
];

/**
 * How a file's columns map onto the lake: `source[i]` is the field index of LAKE_COLUMNS[i] in a record
 * (-1: the file has no such column, the value is null), `extras` the columns the contract does not know.
 */
export interface ColumnPlan {
  width: number;
  /** The file's header names, trimmed, in file order. */
  names: readonly string[];
  source: readonly number[];
  extras: ReadonlyArray<{ name: string; index: number }>;
}

export type HeaderCheck = { ok: true; plan: ColumnPlan; warning?: string } | { ok: false; error: string };

/** The export as docs/data-contract.md describes it: every column, in the documented order. */
export const STANDARD_PLAN: ColumnPlan = {
  width: TRACKING_COLUMN_COUNT,
  names: TRACKING_COLUMNS,
  source: LAKE_COLUMNS.map((_, i) => i), extras: [] };

const SAFE_NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/** A header name fit for an error or a log line: file content is echoed only when it looks like a column name. */
function shownName(name: string): string {
  return SAFE_NAME.test(name) ? name : `<${Math.min(name.length, 9999)} chars>`;
}

function duplicates(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return [...dup];
}

/**
 * Matches a header by name (order free). Fails when an essential column is missing or a name repeats (which
 * copy holds the value would be a guess); a missing non-essential column is null; unknown columns become
 * extras with one warning. Messages name only known columns and counts, never a header's raw text.
 */
export function planColumns(found: readonly string[]): HeaderCheck {
  const names = found.map((n) => n.trim());
  const dup = duplicates(names);
  if (dup.length) {
    const known = new Set<string>(TRACKING_COLUMNS);
    const shown = dup.slice(0, 10).map((n) => (known.has(n) ? JSON.stringify(n) : 'an unknown column'));
    return { ok: false, error: `tracking CSV header repeats column names [${shown.join(', ')}]; each column must appear once` };
  }
  const at = new Map(names.map((n, i) => [n, i]));
  const missing = ESSENTIAL_COLUMNS.filter((c) => !at.has(c));
  if (missing.length) {
    const known = names.filter((n) => (TRACKING_COLUMNS as readonly string[]).includes(n)).length;
    return {
      ok: false,
      error: `tracking CSV header lacks essential columns [${missing.join(', ')}] (it has ${names.length} columns, ${known} known)`,
    };
  }
  const source = TRACKING_COLUMNS.map((c) => at.get(c) ?? -1);
  const known = new Set<string>(TRACKING_COLUMNS);
  const extras = names.flatMap((name, index) => (known.has(name) ? [] : [{ name, index }]));
  const plan: ColumnPlan = { width: names.length, names, source, extras };
  const absent = TRACKING_COLUMNS.filter((c, i) => source[i] === -1).map((c) => (c === '' ? '(row number)' : c));
  const notes: string[] = [];
  if (extras.length) notes.push(`${extras.length} unknown columns kept as extras [${extras.slice(0, 10).map((e) => shownName(e.name)).join(', ')}]`);
  if (absent.length) notes.push(`${absent.length} columns absent, stored as null [${absent.join(', ')}]`);
  return notes.length ? { ok: true, plan, warning: `tracking CSV header: ${notes.join('; ')}` } : { ok: true, plan };
}

/** Returns an error message, or undefined when the header can be mapped onto the lake (planColumns). */
export function checkHeader(found: readonly string[]): string | undefined {
  const h = planColumns(found);
  return h.ok ? undefined : h.error;
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

/** Bids are at most this many units: see boundBid. */
export const MAX_BID = 1_000_000;
/** Bids carry at most this many decimals, so a bid is a whole number of millionths. */
export const BID_DECIMALS = 6;

const DECIMAL_PARTS = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Exact millionths of a bid literal (already matched by NUMBER_RE), or the reason it is refused. With
 * |bid| <= 10^6 and at most 6 decimals a bid is an integer of at most 10^12 millionths, so the stream's
 * per-chunk group sums (at most 5,000 clicks, 5e15) stay below 2^53 and the warehouse's DECIMAL(24,6) sum
 * (at most 2^31 clicks, 2.2e15) below its 10^18; docs/reliability.md gives the argument.
 */
export function bidMicros(literal: string): { micros: number } | { reason: string } {
  const m = DECIMAL_PARTS.exec(literal);
  if (!m) return { reason: `invalid_number: column bid is not a number: ${JSON.stringify(literal.slice(0, 40))}` };
  const frac = m[2] ?? '';
  let digits = (m[1]! + frac).replace(/^0+/, '');
  let exp = (m[3] === undefined ? 0 : Number(m[3])) - frac.length;
  if (digits === '') return { micros: 0 };
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  digits = trimmed;
  const shown = JSON.stringify(literal.slice(0, 40));
  if (exp < -BID_DECIMALS) return { reason: `invalid_bid: more than ${BID_DECIMALS} decimals: ${shown}` };
  const units = digits.length + exp; // digits before the decimal point
  const micros = units > 7 ? Infinity : Number(digits) * 10 ** (exp + BID_DECIMALS);
  if (micros > MAX_BID * 10 ** BID_DECIMALS) return { reason: `invalid_bid: beyond ${MAX_BID}: ${shown}` };
  return { micros: literal.startsWith('-') && micros !== 0 ? -micros : micros };
}

/** A numeric field's value, or the reason it is refused: only finite doubles that are not an underflow to 0. */
function numberOf(column: string, s: string): number | { reason: string } {
  if (!NUMBER_RE.test(s)) return { reason: `invalid_number: column ${column} is not a number: ${JSON.stringify(s.slice(0, 40))}` };
  // -0 is stored as 0: it would not survive the text round trip of the message and the warehouse.
  const v = Number(s) + 0;
  if (!Number.isFinite(v)) return { reason: `invalid_number: column ${column} is not a finite number: ${JSON.stringify(s.slice(0, 40))}` };
  if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) {
    return { reason: `invalid_number: column ${column} is too small for a double: ${JSON.stringify(s.slice(0, 40))}` };
  }
  if (column === 'bid') {
    const b = bidMicros(s);
    if ('reason' in b) return b;
  }
  return v;
}

function rowNumberOf(rn: string): number | null | { reason: string } {
  if (rn === '') return null;
  if (INTEGER_RE.test(rn) && Number.isSafeInteger(Math.trunc(Number(rn)))) return Math.trunc(Number(rn));
  return { reason: `invalid_number: column row_number is not an integer: ${JSON.stringify(rn.slice(0, 40))}` };
}

function extrasOf(fields: readonly string[], plan: ColumnPlan): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const { name, index } of plan.extras) {
    const v = fields[index]!;
    if (v !== '') (out ??= {})[name] = v;
  }
  return out;
}

/**
 * Validates and types one data record, its fields in file order as `plan` maps them. Rejects: wrong column
 * count, a numeric column that is not a finite decimal, a bid out of bounds, a create_time that is not a
 * version-1 time UUID, invalid UTF-8. Empty fields and columns the file lacks are null.
 */
export function checkRecord(fields: readonly string[], invalidUtf8Column?: number, plan: ColumnPlan = STANDARD_PLAN): RowCheck {
  if (fields.length !== plan.width) {
    return { ok: false, reason: `column_count: expected ${plan.width} fields, found ${fields.length}` };
  }
  if (invalidUtf8Column !== undefined) {
    return { ok: false, reason: `invalid_utf8: column ${shownName(plan.names[invalidUtf8Column] ?? '')} is not valid UTF-8` };
  }
  const src = plan.source;
  const createTime = fields[src[IDX.createTime]!]!.trim().toLowerCase();
  if (!isTimeUuid(createTime)) {
    return {
      ok: false,
      reason: `invalid_create_time: not a version-1 time UUID: ${JSON.stringify(fields[src[IDX.createTime]!]!.slice(0, 60))}`,
    };
  }
  const values: LakeValue[] = new Array<LakeValue>(TRACKING_COLUMN_COUNT);
  const rn = src[0]! < 0 ? null : rowNumberOf(fields[src[0]!]!.trim());
  if (rn !== null && typeof rn === 'object') return { ok: false, reason: rn.reason };
  values[0] = rn;
  values[IDX.createTime] = createTime;
  for (let i = 2; i < TRACKING_COLUMN_COUNT; i++) {
    const at = src[i]!;
    const raw = at < 0 ? '' : fields[at]!;
    if (!IS_NUMERIC[i]) {
      values[i] = raw === '' ? null : raw;
      continue;
    }
    const s = raw.trim();
    if (s === '') {
      values[i] = null;
      continue;
    }
    const v = numberOf(LAKE_COLUMNS[i]!, s);
    if (typeof v !== 'number') return { ok: false, reason: v.reason };
    values[i] = v;
  }
  const row: TrackingRow = { createTime, hour: fastHourBucket(createTime), values };
  const extras = plan.extras.length ? extrasOf(fields, plan) : undefined;
  if (extras) row.extras = extras;
  return { ok: true, row };
}

const NEEDS_QUOTES = /[",\r\n]/;

/** Re-serialises a record as one CSV line, for the quarantine's `raw` column. */
export function toCsvLine(fields: readonly string[]): string {
  return fields.map((f) => (NEEDS_QUOTES.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}
