import type { DecodedMessage } from './message';
import { PoisonMessageError } from './message';
import { timeUuidMillis } from './timeuuid';

/** The actions that carry analytical value (docs/data-contract.md, rule 1). Anything else is filtered. */
export const COUNTED_ACTIONS = ['click', 'conversion', 'qualified', 'unqualified'] as const;
export type CountedAction = (typeof COUNTED_ACTIONS)[number];

/** Bids are summed as BigInt millionths so sums of doubles like 0.1 or 1.25 stay exact at any size. */
export const BID_SCALE = 1_000_000;
const BID_DECIMALS = 6;
/**
 * A single bid beyond this is a corrupt event, not a price. With clicks an INT (< 2^31), a group's sum stays
 * under 2^31 * 10^12 < 10^22, inside bid_sum DECIMAL(30,6) (24 integer digits, migration 006).
 */
export const MAX_ABS_BID = 1e12;

export interface GroupKey {
  jobId: number;
  dates: string;
  hours: number;
  publisherId: number;
  campaignId: number;
  groupId: number;
}

/** A message that changes the warehouse: it passed the filter and has a job. */
export interface CountableEvent extends GroupKey {
  eventId: string;
  action: CountedAction;
  /** The bid in millionths (0 when the event had none), exact. */
  bidMicros: bigint;
}

/** The fields classify reads: a decoded message of either version, or a v1 message as built. */
export type ClassifiableMessage = Pick<DecodedMessage, 'event_id' | 'job_id' | 'custom_track' | 'bid' | 'campaign_id' | 'group_id' | 'publisher_id'>;

export type Classified =
  | { kind: 'countable'; event: CountableEvent }
  | { kind: 'filtered' }
  | { kind: 'unattributed' };

export interface Aggregate extends GroupKey {
  clicks: number;
  /** Sum of click bids in millionths, exact. */
  bidSumMicros: bigint;
  conversion: number;
  qualified: number;
  disqualified: number;
}

function isCountedAction(value: string | null): value is CountedAction {
  return value !== null && (COUNTED_ACTIONS as readonly string[]).includes(value);
}

/** Ids arrive as doubles (188.0); anything that is not a non-negative integer cannot be a BIGINT id. */
function idOrZero(value: number | null, field: string): number {
  if (value === null) return 0;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new PoisonMessageError(`field ${field} must be a non-negative integer id, got ${value}`);
  }
  return value;
}

function bidMicros(value: number | null): bigint {
  if (value === null) return 0n;
  if (!Number.isFinite(value) || Math.abs(value) >= MAX_ABS_BID) throw new PoisonMessageError(`field bid is out of range: ${value}`);
  return decimalMicros(value);
}

/**
 * A double as exact millionths of its shortest decimal text (what the export wrote), rounded half away
 * from zero past 6 places: `value * 1e6` in doubles is inexact past 2^53 and Math.round rounds -0.5 up.
 */
export function decimalMicros(value: number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  // Fast path: below 10^9 the double product is within 0.13 of the exact millionths of the text, so an
  // integer product is that value, rounded (test/unit/stream-properties.test.ts checks it against text).
  if (Math.abs(value) < 1e9) {
    const scaled = value * BID_SCALE;
    if (Number.isInteger(scaled)) return BigInt(scaled);
  }
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(Math.abs(value).toString());
  if (!match) throw new RangeError(`unexpected number text: ${value}`);
  const [, whole, frac = '', exp = '0'] = match as unknown as [string, string, string | undefined, string | undefined];
  const digits = BigInt(whole + frac);
  const scale = Number(exp) - frac.length + BID_DECIMALS;
  let micros: bigint;
  if (scale >= 0) micros = digits * 10n ** BigInt(scale);
  else {
    const div = 10n ** BigInt(-scale);
    micros = digits / div + ((digits % div) * 2n >= div ? 1n : 0n);
  }
  return value < 0 ? -micros : micros;
}

const HOUR_MS = 3_600_000;

/**
 * Date text of each UTC hour seen, by hour number since the epoch: events cluster in a few hours, and a Date
 * with toISOString per message was a tenth of the consumer's decode time. Bounded; cleared when full.
 */
const hourDates = new Map<number, string>();
const HOUR_CACHE_LIMIT = 100_000;

/** UTC date and hour of the event time carried by the event id (never the tracker's `ts`). */
export function eventHour(eventId: string): { dates: string; hours: number } {
  const hour = Math.floor(timeUuidMillis(eventId) / HOUR_MS);
  let dates = hourDates.get(hour);
  if (dates === undefined) {
    if (hourDates.size >= HOUR_CACHE_LIMIT) hourDates.clear();
    dates = new Date(hour * HOUR_MS).toISOString().slice(0, 10);
    hourDates.set(hour, dates);
  }
  // hour may be negative (time UUIDs start in 1582): the hour of the day is its non-negative remainder.
  return { dates, hours: ((hour % 24) + 24) % 24 };
}

/**
 * Applies contract rules 1-4 to one decoded message. Throws PoisonMessageError for values the warehouse
 * cannot hold (a fractional or negative id, an absurd bid): those go to the dead-letter topic.
 */
export function classify(message: ClassifiableMessage): Classified {
  if (!isCountedAction(message.custom_track)) return { kind: 'filtered' };
  if (message.job_id === null) return { kind: 'unattributed' };
  const jobId = idOrZero(message.job_id, 'job_id');
  const { dates, hours } = eventHour(message.event_id);
  return {
    kind: 'countable',
    event: {
      eventId: message.event_id,
      action: message.custom_track,
      jobId,
      dates,
      hours,
      publisherId: idOrZero(message.publisher_id, 'publisher_id'),
      campaignId: idOrZero(message.campaign_id, 'campaign_id'),
      groupId: idOrZero(message.group_id, 'group_id'),
      bidMicros: bidMicros(message.bid),
    },
  };
}

export function groupKeyString(k: GroupKey): string {
  return `${k.jobId}|${k.dates}|${k.hours}|${k.publisherId}|${k.campaignId}|${k.groupId}`;
}

/** Rule 5: one aggregate per group key, in key order (a stable order keeps row locks ordered too). */
export function aggregate(events: Iterable<CountableEvent>): Aggregate[] {
  const groups = new Map<string, Aggregate>();
  for (const e of events) {
    const key = groupKeyString(e);
    let g = groups.get(key);
    if (!g) {
      g = {
        jobId: e.jobId,
        dates: e.dates,
        hours: e.hours,
        publisherId: e.publisherId,
        campaignId: e.campaignId,
        groupId: e.groupId,
        clicks: 0,
        bidSumMicros: 0n,
        conversion: 0,
        qualified: 0,
        disqualified: 0,
      };
      groups.set(key, g);
    }
    switch (e.action) {
      case 'click':
        g.clicks += 1;
        g.bidSumMicros += e.bidMicros;
        break;
      case 'conversion':
        g.conversion += 1;
        break;
      case 'qualified':
        g.qualified += 1;
        break;
      case 'unqualified':
        g.disqualified += 1;
        break;
    }
  }
  return [...groups.values()].sort(compareGroupKeys);
}

export function compareGroupKeys(a: GroupKey, b: GroupKey): number {
  return (
    a.jobId - b.jobId ||
    (a.dates < b.dates ? -1 : a.dates > b.dates ? 1 : 0) ||
    a.hours - b.hours ||
    a.publisherId - b.publisherId ||
    a.campaignId - b.campaignId ||
    a.groupId - b.groupId
  );
}

/** An integer count of millionths as an exact decimal string with 6 fraction digits ("1250000" -> "1.250000"). */
export function microsToDecimal(micros: bigint | number): string {
  const exact = toBigInt(micros);
  const negative = exact < 0n;
  const digits = (negative ? -exact : exact).toString().padStart(BID_DECIMALS + 1, '0');
  const whole = digits.slice(0, -BID_DECIMALS);
  const frac = digits.slice(-BID_DECIMALS);
  return `${negative ? '-' : ''}${whole}.${frac}`;
}

/**
 * bid_set: the average click bid rounded half away from zero to 2 decimals (SQL ROUND on DECIMAL does
 * the same), null without clicks. Computed on exact integers, as the database does on DECIMAL.
 */
export function bidSet(bidSumMicros: bigint | number, clicks: number): string | null {
  if (clicks === 0) return null;
  const sum = toBigInt(bidSumMicros);
  const n = BigInt(clicks);
  const unit = BigInt(BID_SCALE / 100);
  const abs = sum < 0n ? -sum : sum;
  const cents = (abs * 2n + unit * n) / (2n * unit * n);
  const signed = sum < 0n && cents !== 0n ? -cents : cents;
  const neg = signed < 0n;
  const digits = (neg ? -signed : signed).toString().padStart(3, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Millionths given as a number must be an integer the double holds exactly; anything else is a bug upstream. */
function toBigInt(micros: bigint | number): bigint {
  if (typeof micros === 'bigint') return micros;
  if (!Number.isSafeInteger(micros)) throw new RangeError(`millionths must be a safe integer or a BigInt, got ${micros}`);
  return BigInt(micros);
}

/**
 * The canonical text of a warehouse decimal (export, docs/stream.md): at least 2 and at most 6 fraction
 * digits, zeros beyond the second trimmed. "2.000000" -> "2.00", "0.125000" -> "0.125".
 */
export function canonicalDecimal(value: string | number | null): string | null {
  if (value === null) return null;
  const text = typeof value === 'number' ? value.toFixed(BID_DECIMALS) : value;
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text.trim());
  if (!match) throw new TypeError(`not a decimal: ${text}`);
  const [, sign, whole, fracRaw] = match as unknown as [string, string, string, string | undefined];
  let frac = (fracRaw ?? '').padEnd(2, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  const isZero = /^0*$/.test(whole) && /^0*$/.test(frac);
  return `${isZero ? '' : sign}${whole.replace(/^0+(?=\d)/, '')}.${frac}`;
}
