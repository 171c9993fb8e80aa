/**
 * Hour arithmetic for verify and rebuild. Pure and free of Node built-ins: the workflows import it too.
 * An hour is the lake's partition key, `YYYY-MM-DDTHH` in UTC.
 */
import { HourFormatError } from './errors';

const HOUR_MS = 3_600_000;
/** A range larger than this is almost certainly a typo (about 114 years of hours). */
export const MAX_RANGE_HOURS = 1_000_000;

const HOUR_RE = /^\d{4}-\d{2}-\d{2}T\d{2}$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const NO_ZONE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const ZONED_RE = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?([zZ]|[+-]\d{2}:?\d{2})$/;

export { HourFormatError };

export function isHour(value: string): boolean {
  return HOUR_RE.test(value) && hourStartMs(value) !== undefined;
}

/** Milliseconds of the hour's start, or undefined when the text is not a real hour. */
export function hourStartMs(hour: string): number | undefined {
  if (!HOUR_RE.test(hour)) return undefined;
  const ms = Date.parse(`${hour}:00:00.000Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 13) !== hour) return undefined;
  return ms;
}

export function hourOfMs(ms: number): string {
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13);
}

/**
 * An ISO 8601 time floored to its UTC hour: `2022-07-08T09`, `2022-07-08`, `2022-07-08T09:41:07Z`,
 * `2022-07-08T11:41+02:00`. A time without a zone is UTC (the lake's hours are UTC).
 */
export function parseHour(text: string): string {
  const t = text.trim();
  let iso: string;
  if (DATE_RE.test(t)) iso = `${t}T00:00:00Z`;
  else if (HOUR_RE.test(t)) iso = `${t}:00:00Z`;
  else if (NO_ZONE_RE.test(t)) iso = `${t}Z`;
  else if (ZONED_RE.test(t)) iso = t;
  else throw new HourFormatError(`not an ISO 8601 time: "${text}" (e.g. 2022-07-08T09)`);
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new HourFormatError(`not an ISO 8601 time: "${text}" (e.g. 2022-07-08T09)`);
  // Date.parse rolls 2022-02-30 over into March: a UTC time must keep the fields it was written with.
  if (/Z$/i.test(iso) && new Date(ms).toISOString().slice(0, 13) !== iso.slice(0, 13)) {
    throw new HourFormatError(`no such time: "${text}"`);
  }
  return hourOfMs(ms);
}

/** Every hour from `from` to `to`, both included, in order. */
export function hoursBetween(from: string, to: string): string[] {
  const a = hourStartMs(from);
  const b = hourStartMs(to);
  if (a === undefined) throw new HourFormatError(`not an hour: "${from}"`);
  if (b === undefined) throw new HourFormatError(`not an hour: "${to}"`);
  if (b < a) throw new HourFormatError(`--from ${from} is after --to ${to}`);
  const n = (b - a) / HOUR_MS + 1;
  if (n > MAX_RANGE_HOURS) throw new HourFormatError(`range of ${n} hours is too large (at most ${MAX_RANGE_HOURS})`);
  return Array.from({ length: n }, (_, i) => hourOfMs(a + i * HOUR_MS));
}

/** The `n` hours ending with the hour that contains `nowMs`. */
export function lastHours(nowMs: number, n: number): string[] {
  const end = hourOfMs(nowMs);
  return hoursBetween(hourOfMs(hourStartMs(end)! - (n - 1) * HOUR_MS), end);
}

/** The 24 hours of the UTC day before the one that contains `nowMs`. */
export function previousDayHours(nowMs: number): string[] {
  const day = new Date(Math.floor(nowMs / 86_400_000) * 86_400_000 - 86_400_000).toISOString().slice(0, 10);
  return hoursBetween(`${day}T00`, `${day}T23`);
}

/** The warehouse's `dates` and `hours` of a lake hour. */
export function warehouseHour(hour: string): { dates: string; hours: number } {
  return { dates: hour.slice(0, 10), hours: Number(hour.slice(11, 13)) };
}

/** Hours cut into consecutive chunks of at most `size`. */
export function chunkHours(hours: readonly string[], size: number): string[][] {
  const n = Math.max(1, Math.floor(size));
  const out: string[][] = [];
  for (let i = 0; i < hours.length; i += n) out.push(hours.slice(i, i + n));
  return out;
}
