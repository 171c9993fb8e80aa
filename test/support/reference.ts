/**
 * An independent reading of docs/data-contract.md: what the warehouse `events` table must hold for a set of
 * tracking exports and a job export. It shares no code with lib/domain (its own CSV reader, validation,
 * UUID time decoding and decimal arithmetic), so a bug in the product cannot hide in both places.
 */
import fs from 'node:fs';

export interface CsvRecord {
  /** Physical line the record ends on; the header is line 1. */
  line: number;
  /** Raw bytes of each field, quotes removed. */
  fields: Buffer[];
  /** The quote was still open at end of file. */
  unterminated?: boolean;
  /** Bytes of the record without its line terminator. */
  bytes: number;
  /** A closing quote was followed by data (`"ab"c`). */
  badQuote?: boolean;
  /** Set on the lines skipped after a quote left open at EOF, up to the next well-formed record. */
  span?: boolean;
}

/** The contract's field limit of one record. */
export const MAX_RECORD_FIELDS = 1000;

/** The contract's size limit of one record (ingest quarantines larger ones as record_too_large). */
export const MAX_RECORD_BYTES = 1 << 20;

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * RFC 4180 with the exporter's tolerances: a quote only opens a quoted field at the field's start (a quote
 * inside an unquoted field is data), `""` is a quote inside a quoted field, CRLF or LF ends a record, blank
 * lines are skipped, a leading UTF-8 BOM is dropped.
 */
export function readCsv(buf: Buffer): CsvRecord[] {
  const recs = scan(buf, buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0, 1);
  return resyncOpenQuote(buf, recs, recs[0]?.fields.length);
}

/**
 * A quote open at EOF swallowed the rest of the file. Its lines are one unparsable span up to the first later
 * line that starts a well-formed record (complete, as many fields as the header, within the limits); reading
 * goes on from there.
 */
function resyncOpenQuote(buf: Buffer, recs: Scanned[], width: number | undefined): Scanned[] {
  const last = recs[recs.length - 1];
  if (!last?.unterminated || width === undefined || last.start === undefined) return recs;
  let line = last.firstLine!;
  for (let p = buf.indexOf(LF, last.start); p !== -1; p = buf.indexOf(LF, p + 1)) {
    const rest = scan(buf, p + 1, line + 1);
    const r = rest[0];
    if (r && !r.unterminated && !r.badQuote && r.fields.length === width && r.bytes <= MAX_RECORD_BYTES && r.firstLine === line + 1) {
      const span: Scanned = { line, fields: [], unterminated: true, bytes: p - last.start, span: true };
      return [...recs.slice(0, -1), span, ...resyncOpenQuote(buf, rest, width)];
    }
    line++;
  }
  return recs;
}

interface Scanned extends CsvRecord {
  start?: number;
  firstLine?: number;
}

function scan(buf: Buffer, from: number, firstLine: number): Scanned[] {
  let i = from;
  const out: Scanned[] = [];
  let line = firstLine;
  let recLine = firstLine;
  let closedQuote = false;
  let badQuote = false;
  let fields: Buffer[] = [];
  let field: number[] = [];
  let inQuotes = false;
  let fieldStart = true;
  let recordHasData = false;
  let start = i;
  const endField = () => {
    fields.push(Buffer.from(field));
    field = [];
    fieldStart = true;
    closedQuote = false;
  };
  let end = 0;
  const endRecord = () => {
    endField();
    if (recordHasData || fields.length > 1 || fields[0]!.length > 0) {
      out.push({ line, fields, bytes: end - start, ...(badQuote ? { badQuote } : {}), start, firstLine: recLine });
    }
    fields = [];
    recordHasData = false;
    badQuote = false;
  };
  for (; i < buf.length; i++) {
    const b = buf[i]!;
    if (inQuotes) {
      if (b === QUOTE) {
        if (buf[i + 1] === QUOTE) {
          field.push(QUOTE);
          i++;
        } else {
          inQuotes = false;
          closedQuote = true;
        }
      } else {
        if (b === LF) line++;
        field.push(b);
      }
      continue;
    }
    if (closedQuote && b !== COMMA && b !== LF && !(b === CR && buf[i + 1] === LF)) badQuote = true;
    if (b === QUOTE && fieldStart) {
      inQuotes = true;
      fieldStart = false;
      recordHasData = true;
    } else if (b === COMMA) {
      endField();
      recordHasData = true;
    } else if (b === LF || (b === CR && buf[i + 1] === LF)) {
      end = i;
      if (b === CR) i++;
      endRecord();
      start = i + 1;
      line++;
      recLine = line;
    } else {
      field.push(b);
      fieldStart = false;
    }
  }
  end = buf.length;
  if (inQuotes) {
    fields.push(Buffer.from(field));
    out.push({ line, fields, unterminated: true, bytes: end - start, start, firstLine: recLine });
  } else if (field.length || fields.length || recordHasData) {
    endRecord();
  }
  return out;
}

const HEADER = [
  '', 'create_time', 'bid', 'bn', 'campaign_id', 'cd', 'custom_track', 'de', 'dl', 'dt', 'ed', 'ev', 'group_id', 'id',
  'job_id', 'md', 'publisher_id', 'rl', 'sr', 'ts', 'tz', 'ua', 'uid', 'utm_campaign', 'utm_content', 'utm_medium',
  'utm_source', 'utm_term', 'v', 'vp',
];
const COL = Object.fromEntries(HEADER.map((h, i) => [h, i])) as Record<string, number>;
const DOUBLE_COLUMNS = ['bid', 'campaign_id', 'cd', 'ev', 'group_id', 'job_id', 'publisher_id', 'tz', 'v'];
const COUNTED = new Set(['click', 'conversion', 'qualified', 'unqualified']);

function isDecimal(s: string): boolean {
  // Plain decimal notation with an optional exponent; no hex, no Infinity, no NaN, no empty string.
  return /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s);
}

function validUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds since 1970 of a version-1 UUID, or undefined when the text is not one. */
export function v1Millis(text: string): number | undefined {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-1([0-9a-f]{3})-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.exec(text);
  if (!m) return undefined;
  const ticks = BigInt('0x' + m[3]! + m[2]! + m[1]!);
  // 1582-10-15 to 1970-01-01 in 100 ns units.
  return Number((ticks - 0x01b21dd213814000n) / 10000n);
}

export type Verdict =
  | { ok: true; createTime: string; values: Record<string, string> }
  | { ok: false; kind: 'column_count' | 'invalid_utf8' | 'invalid_create_time' | 'invalid_number' | 'invalid_bid' | 'unparsable' | 'record_too_large' };

/** A bid the warehouse sums exactly: at most 10^6 in magnitude and 6 decimals (docs/reliability.md). */
function bidInBounds(s: string): boolean {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s)!;
  const digits = (m[1] ?? '') + (m[2] ?? '');
  const scale = (m[2] ?? '').length - Number(m[3] ?? '0');
  let n = BigInt(digits || '0');
  let sc = scale;
  while (sc > 6) {
    if (n % 10n !== 0n) return false;
    n /= 10n;
    sc--;
  }
  return n * 10n ** BigInt(6 - sc) <= 10n ** 12n;
}

/** Where each contract column sits in a file's records (-1: the file has no such column). */
export interface Layout {
  width: number;
  at: Record<string, number>;
}

const STANDARD: Layout = { width: HEADER.length, at: COL };
const ESSENTIAL = ['create_time', 'custom_track', 'job_id', 'bid', 'campaign_id', 'group_id', 'publisher_id'];

/** The layout a header names, or undefined when the file must fail (an essential column missing, a name twice). */
export function layoutOf(header: CsvRecord): Layout | undefined {
  const names = header.fields.map((f) => f.toString('utf8').trim());
  if (new Set(names).size !== names.length) return undefined;
  if (!ESSENTIAL.every((c) => names.includes(c))) return undefined;
  return { width: names.length, at: Object.fromEntries(HEADER.map((h) => [h, names.indexOf(h)])) };
}

/** The contract's validity of one record (what ingest must quarantine). */
export function judge(rec: CsvRecord, layout: Layout = STANDARD): Verdict {
  if (rec.span) return { ok: false, kind: 'unparsable' };
  if (rec.bytes > MAX_RECORD_BYTES || rec.fields.length > MAX_RECORD_FIELDS) return { ok: false, kind: 'record_too_large' };
  if (rec.unterminated || rec.badQuote) return { ok: false, kind: 'unparsable' };
  if (rec.fields.length !== layout.width) return { ok: false, kind: 'column_count' };
  if (!rec.fields.every(validUtf8)) return { ok: false, kind: 'invalid_utf8' };
  const all = rec.fields.map((f) => f.toString('utf8'));
  const text = HEADER.map((h) => (layout.at[h]! < 0 ? '' : all[layout.at[h]!]!));
  const createTime = text[COL['create_time']!]!.trim().toLowerCase();
  if (v1Millis(createTime) === undefined) return { ok: false, kind: 'invalid_create_time' };
  const rowNumber = text[0]!.trim();
  if (rowNumber !== '' && (!/^[+-]?\d+(\.0*)?$/.test(rowNumber) || !Number.isSafeInteger(Math.trunc(Number(rowNumber))))) {
    return { ok: false, kind: 'invalid_number' };
  }
  for (const c of DOUBLE_COLUMNS) {
    const v = text[COL[c]!]!.trim();
    if (v !== '' && (!isDecimal(v) || !Number.isFinite(Number(v)))) return { ok: false, kind: 'invalid_number' };
    if (v !== '' && Number(v) === 0 && /[1-9]/.test(v.replace(/[eE].*$/, ''))) return { ok: false, kind: 'invalid_number' };
  }
  const bid = text[COL['bid']!]!.trim();
  if (bid !== '' && !bidInBounds(bid)) return { ok: false, kind: 'invalid_bid' };
  const values: Record<string, string> = {};
  HEADER.forEach((h, i) => (values[h] = text[i]!));
  return { ok: true, createTime, values };
}

export interface ExpectedRow {
  job_id: number;
  dates: string;
  hours: number;
  publisher_id: number;
  campaign_id: number;
  group_id: number;
  clicks: number;
  bidMicros: bigint;
  conversion: number;
  qualified: number;
  disqualified: number;
}

export interface Expected {
  /** Data records read over all files (valid + rejected). */
  rows: number;
  rejected: number;
  rejectedByLine: Array<{ file: number; line: number; kind: string }>;
  /** Distinct valid events (what the lake holds and the publisher sends once). */
  events: number;
  alreadyPresent: number;
  filtered: number;
  unattributed: number;
  /** Counted actions whose ids the warehouse cannot hold (fractional, negative): dead-lettered. */
  poison: number;
  counted: number;
  table: Map<string, ExpectedRow>;
  companies: Map<number, number | null>;
}

function idOf(s: string): number | 'poison' {
  const t = s.trim();
  if (t === '') return 0;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= 0 ? n : 'poison';
}

/** Exact millionths of a decimal string, half away from zero past 6 places. */
function micros(s: string): bigint {
  const t = s.trim();
  if (t === '') return 0n;
  const n = Number(t);
  return BigInt(Math.round(n * 1e6));
}

/** job id -> company id from a job export (its header names the columns; descriptions span lines). */
export function readJobCompanies(buf: Buffer): Map<number, number | null> {
  const recs = readCsv(buf);
  const header = recs[0]!.fields.map((f) => f.toString('utf8').trim());
  const idIx = header.indexOf('id');
  const coIx = header.indexOf('company_id');
  const out = new Map<number, number | null>();
  for (const r of recs.slice(1)) {
    if (r.fields.length !== header.length) continue;
    const id = Number(r.fields[idIx]!.toString('utf8'));
    const co = r.fields[coIx]!.toString('utf8').trim();
    if (Number.isFinite(id)) out.set(id, co === '' ? null : Number(co));
  }
  return out;
}

/** The contract applied to tracking exports in the order they are ingested. */
export function expectedFrom(trackingFiles: Array<string | Buffer>, jobFile?: string | Buffer): Expected {
  const exp: Expected = {
    rows: 0, rejected: 0, rejectedByLine: [], events: 0, alreadyPresent: 0, filtered: 0, unattributed: 0, poison: 0,
    counted: 0, table: new Map(), companies: jobFile === undefined ? new Map() : readJobCompanies(typeof jobFile === 'string' ? fs.readFileSync(jobFile) : jobFile),
  };
  const seen = new Set<string>();
  trackingFiles.forEach((file, fileIx) => {
    const all = readCsv(typeof file === 'string' ? fs.readFileSync(file) : file);
    const layout = all[0] ? layoutOf(all[0]) : undefined;
    if (!layout) return; // the file fails on its header: none of its rows are read
    for (const rec of all.slice(1)) {
      exp.rows += 1;
      const v = judge(rec, layout);
      if (!v.ok) {
        exp.rejected += 1;
        exp.rejectedByLine.push({ file: fileIx, line: rec.line, kind: v.kind });
        continue;
      }
      if (seen.has(v.createTime)) {
        exp.alreadyPresent += 1;
        continue;
      }
      seen.add(v.createTime);
      exp.events += 1;
      const action = v.values['custom_track']!;
      if (!COUNTED.has(action)) {
        exp.filtered += 1;
        continue;
      }
      if (v.values['job_id']!.trim() === '') {
        exp.unattributed += 1;
        continue;
      }
      const ids = ['job_id', 'publisher_id', 'campaign_id', 'group_id'].map((c) => idOf(v.values[c]!));
      // The warehouse cannot hold a fractional or negative id, nor a bid of 10^12 or more (docs/stream.md).
      const bid = v.values['bid']!.trim();
      if (ids.includes('poison') || (bid !== '' && Math.abs(Number(bid)) >= 1e12)) {
        exp.poison += 1;
        continue;
      }
      const [job, publisher, campaign, group] = ids as number[];
      const at = new Date(v1Millis(v.createTime)!).toISOString();
      const dates = at.slice(0, 10);
      const hours = Number(at.slice(11, 13));
      const key = [job, dates, hours, publisher, campaign, group].join('|');
      let row = exp.table.get(key);
      if (!row) {
        row = {
          job_id: job!, dates, hours, publisher_id: publisher!, campaign_id: campaign!, group_id: group!,
          clicks: 0, bidMicros: 0n, conversion: 0, qualified: 0, disqualified: 0,
        };
        exp.table.set(key, row);
      }
      exp.counted += 1;
      if (action === 'click') {
        row.clicks += 1;
        row.bidMicros += micros(v.values['bid']!);
      } else if (action === 'conversion') row.conversion += 1;
      else if (action === 'qualified') row.qualified += 1;
      else row.disqualified += 1;
    }
  });
  return exp;
}

/** Millionths as text with 2..6 fraction digits (the export's canonical decimal). */
export function decimalText(m: bigint): string {
  const neg = m < 0n;
  const a = neg ? -m : m;
  let frac = (a % 1_000_000n).toString().padStart(6, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${neg ? '-' : ''}${a / 1_000_000n}.${frac}`;
}

/** Average rounded half away from zero to cents, as millionths. */
function averageCents(sum: bigint, n: number): bigint {
  const den = BigInt(n) * 10_000n;
  const neg = sum < 0n;
  const a = neg ? -sum : sum;
  const cents = (2n * a + den) / (2n * den);
  return (neg ? -cents : cents) * 10_000n;
}

export const EXPORT_HEADER =
  'job_id,dates,hours,publisher_id,campaign_id,group_id,bid_set,clicks,spend_hour,conversion,qualified_application,disqualified_application,company_id,sources';

/** The table as `trackflow export events --csv` prints it: contract columns, sorted by the group key. */
export function expectedExport(exp: Expected): string[] {
  const rows = [...exp.table.values()].sort(
    (a, b) =>
      a.job_id - b.job_id ||
      (a.dates < b.dates ? -1 : a.dates > b.dates ? 1 : 0) ||
      a.hours - b.hours ||
      a.publisher_id - b.publisher_id ||
      a.campaign_id - b.campaign_id ||
      a.group_id - b.group_id,
  );
  return [
    EXPORT_HEADER,
    ...rows.map((r) => {
      const company = exp.companies.get(r.job_id);
      return [
        r.job_id, r.dates, r.hours, r.publisher_id, r.campaign_id, r.group_id,
        r.clicks === 0 ? '' : decimalText(averageCents(r.bidMicros, r.clicks)),
        r.clicks, decimalText(r.bidMicros), r.conversion, r.qualified, r.disqualified,
        company === undefined || company === null ? '' : company, 'Cassandra',
      ].join(',');
    }),
  ];
}
