/**
 * An independent message-level reference of the stream stage: what the warehouse and the stream counters
 * must hold after consuming a list of raw Kafka messages (contracts v1 and v2, docs/stream.md, docs/data-contract.md).
 * It shares no code with lib/: its own validity rules, UUID time, decimal and rounding arithmetic.
 */

export interface RawMessage {
  partition: number;
  key: string | null;
  value: Buffer | string | null;
  headers?: Record<string, string>;
}

export interface MessageRow {
  job_id: string;
  dates: string;
  hours: number;
  publisher_id: string;
  campaign_id: string;
  group_id: string;
  clicks: number;
  micros: bigint;
  conversion: number;
  qualified: number;
  disqualified: number;
}

export interface StreamExpectation {
  consumed: number;
  counted: number;
  filtered: number;
  unattributed: number;
  deadLettered: number;
  duplicates: number;
  redelivered: number;
  rows: Map<string, MessageRow>;
  /** Offsets (per partition, in produce order) of the messages that must be dead-lettered. */
  poison: Array<{ partition: number; index: number }>;
}

const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-1([0-9a-f]{3})-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const COUNTED = new Set(['click', 'conversion', 'qualified', 'unqualified']);
const NUMBERS = ['job_id', 'bid', 'campaign_id', 'group_id', 'publisher_id'];

type Judged =
  | { ok: false }
  | { ok: true; obj: Record<string, unknown>; origin?: { batch: string; seq: number } };

function codePoints(s: string): number {
  return [...s].length;
}

/** The contract's v1 decoding rules plus the watermark table's VARCHAR(64). */
function decode(m: RawMessage): Judged {
  if (m.value === null) return { ok: false };
  let obj: unknown;
  try {
    obj = JSON.parse(Buffer.isBuffer(m.value) ? m.value.toString('utf8') : m.value);
  } catch {
    return { ok: false };
  }
  if (Array.isArray(obj)) return decodeV2(obj);
  if (obj === null || typeof obj !== 'object') return { ok: false };
  const o = obj as Record<string, unknown>;
  if (o['v'] !== 1) return { ok: false };
  if (typeof o['event_id'] !== 'string' || !UUID.test(o['event_id'].toLowerCase())) return { ok: false };
  const track = o['custom_track'];
  if (track !== undefined && track !== null && typeof track !== 'string') return { ok: false };
  for (const f of NUMBERS) {
    const v = o[f];
    if (v !== undefined && v !== null && (typeof v !== 'number' || v === Infinity || v === -Infinity || v !== v)) return { ok: false };
  }
  const pub = o['pub'];
  let origin: { batch: string; seq: number } | undefined;
  if (pub !== undefined) {
    if (typeof pub !== 'string') return { ok: false };
    const parts = pub.split(':');
    if (parts.length !== 2 || parts[0] === '' || !/^[0-9]{1,15}$/.test(parts[1]!)) return { ok: false };
    if (codePoints(parts[0]!) > 64) return { ok: false };
    origin = { batch: parts[0]!, seq: parseInt(parts[1]!, 10) };
  } else if (m.headers?.['trackflow-batch'] !== undefined && m.headers['trackflow-seq'] !== undefined) {
    if (codePoints(m.headers['trackflow-batch']) > 64) return { ok: false };
    const seq = m.headers['trackflow-seq'];
    // The generator writes seq headers as plain digits or as words; words carry no position.
    if (/^[0-9]{1,15}$/.test(seq)) origin = { batch: m.headers['trackflow-batch'], seq: parseInt(seq, 10) };
  }
  return { ok: true, obj: o, origin };
}

/**
 * The v2 rules, written out on their own: exactly [2, event_id, job_id, custom_track, bid, campaign_id,
 * group_id, publisher_id, pub_batch, pub_seq], numbers finite or null, the position both null or a batch
 * (no colon, at most 64 code points) and a whole seq of at most 15 digits. Judged as the v1 object it stands for.
 */
function decodeV2(a: unknown[]): Judged {
  if (a.length !== 10 || a[0] !== 2) return { ok: false };
  const [, eventId, job, track, bid, campaign, group, publisher, batch, seq] = a;
  const o: Record<string, unknown> = { v: 1, event_id: eventId, job_id: job, custom_track: track, bid, campaign_id: campaign, group_id: group, publisher_id: publisher };
  if (typeof eventId !== 'string' || !UUID.test(eventId.toLowerCase())) return { ok: false };
  if (track !== null && typeof track !== 'string') return { ok: false };
  for (const f of NUMBERS) {
    const v = o[f];
    if (v !== null && (typeof v !== 'number' || v === Infinity || v === -Infinity || v !== v)) return { ok: false };
  }
  if (batch === null && seq === null) return { ok: true, obj: o };
  if (typeof batch !== 'string' || batch === '' || batch.split(':').length !== 1 || codePoints(batch) > 64) return { ok: false };
  if (typeof seq !== 'number' || !/^[0-9]{1,15}$/.test(String(seq))) return { ok: false };
  return { ok: true, obj: o, origin: { batch, seq } };
}

/** An id column value: absent is 0, else a non-negative integer below 2^53, else the message is poison. */
function id(v: unknown): string | undefined {
  if (v === undefined || v === null) return '0';
  const n = v as number;
  if (n < 0 || n > 9007199254740991 || Math.floor(n) !== n) return undefined;
  return String(n);
}

/** Millionths of a number's shortest decimal text, half away from zero, by moving the decimal point in text. */
export function referenceMicros(n: number): bigint {
  const neg = n < 0;
  let text = String(Math.abs(n));
  let exp = 0;
  const e = text.indexOf('e');
  if (e >= 0) {
    exp = parseInt(text.slice(e + 1), 10);
    text = text.slice(0, e);
  }
  const dot = text.indexOf('.');
  let digits = dot < 0 ? text : text.slice(0, dot) + text.slice(dot + 1);
  let point = (dot < 0 ? text.length : dot) + exp + 6; // digits before the point, after scaling by 10^6
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits;
    point = 1;
  }
  digits = digits.padEnd(point + 1, '0');
  let micros = BigInt(digits.slice(0, point));
  if (digits.charCodeAt(point) - 48 >= 5) micros += 1n;
  return neg ? -micros : micros;
}

/** UTC date and hour of a v1 UUID's time: 100 ns ticks since 1582-10-15, floored to milliseconds. */
function uuidHour(uuid: string): { dates: string; hours: number } {
  const m = UUID.exec(uuid)!;
  const ticks = BigInt('0x' + m[3]! + m[2]! + m[1]!) - 122192928000000000n;
  const floor = ticks >= 0n ? ticks / 10000n : -((-ticks + 9999n) / 10000n);
  const iso = new Date(Number(floor)).toISOString();
  return { dates: iso.slice(0, 10), hours: parseInt(iso.slice(11, 13), 10) };
}

type Verdict = 'poison' | 'filtered' | 'unattributed' | { key: string; row: Omit<MessageRow, 'clicks' | 'micros' | 'conversion' | 'qualified' | 'disqualified'>; action: string; micros: bigint; eventId: string };

function classify(o: Record<string, unknown>): Verdict {
  const action = o['custom_track'];
  if (typeof action !== 'string' || !COUNTED.has(action)) return 'filtered';
  if (o['job_id'] === undefined || o['job_id'] === null) return 'unattributed';
  const ids = ['job_id', 'publisher_id', 'campaign_id', 'group_id'].map((f) => id(o[f]));
  if (ids.includes(undefined)) return 'poison';
  const bid = o['bid'] as number | null | undefined;
  if (bid !== undefined && bid !== null && Math.abs(bid) >= 1e12) return 'poison';
  const eventId = (o['event_id'] as string).toLowerCase();
  const { dates, hours } = uuidHour(eventId);
  const [job, publisher, campaign, group] = ids as string[];
  return {
    key: [job, dates, hours, publisher, campaign, group].join('|'),
    row: { job_id: job!, dates, hours, publisher_id: publisher!, campaign_id: campaign!, group_id: group! },
    action,
    micros: bid === undefined || bid === null ? 0n : referenceMicros(bid),
    eventId,
  };
}

/** Applies the stage to the messages, each partition in its produce order. */
export function expectStream(messages: RawMessage[]): StreamExpectation {
  const exp: StreamExpectation = {
    consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0, duplicates: 0, redelivered: 0, rows: new Map(), poison: [],
  };
  const marks = new Map<string, number>();
  const seen = new Set<string>();
  const index = new Map<number, number>();
  for (const m of messages) {
    const i = index.get(m.partition) ?? 0;
    index.set(m.partition, i + 1);
    exp.consumed += 1;
    const d = decode(m);
    const v: Verdict = d.ok ? classify(d.obj) : 'poison';
    if (v === 'poison') {
      exp.deadLettered += 1;
      exp.poison.push({ partition: m.partition, index: i });
      continue;
    }
    if (d.ok && d.origin) {
      const markKey = `${m.partition}|${d.origin.batch}`;
      const mark = marks.get(markKey);
      if (mark !== undefined && d.origin.seq <= mark) {
        exp.redelivered += 1;
        continue;
      }
      marks.set(markKey, d.origin.seq);
    }
    if (v === 'filtered' || v === 'unattributed') {
      exp[v] += 1;
      continue;
    }
    if (seen.has(v.eventId)) {
      exp.duplicates += 1;
      continue;
    }
    seen.add(v.eventId);
    exp.counted += 1;
    let row = exp.rows.get(v.key);
    if (!row) {
      row = { ...v.row, clicks: 0, micros: 0n, conversion: 0, qualified: 0, disqualified: 0 };
      exp.rows.set(v.key, row);
    }
    if (v.action === 'click') {
      row.clicks += 1;
      row.micros += v.micros;
    } else if (v.action === 'conversion') row.conversion += 1;
    else if (v.action === 'qualified') row.qualified += 1;
    else row.disqualified += 1;
  }
  return exp;
}

function sixDecimals(micros: bigint): string {
  const neg = micros < 0n;
  const s = (neg ? -micros : micros).toString().padStart(7, '0');
  return `${neg ? '-' : ''}${s.slice(0, -6)}.${s.slice(-6)}`;
}

/** The average in cents, half away from zero, as text with 2 decimals (the warehouse's DECIMAL(20,2)). */
function averageText(micros: bigint, clicks: number): string {
  const den = BigInt(clicks) * 10_000n;
  const neg = micros < 0n;
  const a = neg ? -micros : micros;
  let cents = a / den;
  if ((a % den) * 2n >= den) cents += 1n;
  const s = cents.toString().padStart(3, '0');
  return `${neg && cents !== 0n ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** The rows as `job|dates|hours|publisher|campaign|group|bid_set|clicks|bid_sum|conversion|qualified|disqualified`, sorted. */
export function expectedRowLines(exp: StreamExpectation): string[] {
  return [...exp.rows.values()]
    .map((r) =>
      [
        r.job_id, r.dates, r.hours, r.publisher_id, r.campaign_id, r.group_id,
        r.clicks === 0 ? 'null' : averageText(r.micros, r.clicks), r.clicks, sixDecimals(r.micros),
        r.conversion, r.qualified, r.disqualified,
      ].join('|'),
    )
    .sort();
}
