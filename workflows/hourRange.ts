import { ApplicationFailure } from '@temporalio/workflow';
import { InvalidHourRange } from '../lib/domain/errors';
import { HourFormatError, hoursBetween, lastHours, parseHour, previousDayHours } from '../lib/domain/hours';

/** Which hours a verify or rebuild covers. */
export interface HourRangeInput {
  /** First hour (ISO 8601, floored to the hour), with `to`. */
  from?: string;
  /** Last hour, included. */
  to?: string;
  /** Every hour the lake's hour index lists. */
  all?: boolean;
  /** With `all`: fill the index from the lake's partition keys first. */
  reindex?: boolean;
  /** The UTC day before the run's start (the daily schedule). */
  previousDay?: boolean;
  /** Without a range: the hours ending with the current one; default 48. */
  lastHours?: number;
  /** Hours per activity; default 24. */
  chunkHours?: number;
}

export const DEFAULT_LAST_HOURS = 48;
export const DEFAULT_CHUNK_HOURS = 24;

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, InvalidHourRange.code);
}

/** The explicit hours of an input, or undefined for `all` (the activity lists those). Workflow time is deterministic. */
export function explicitHours(input: HourRangeInput, opts: { requireRange: boolean }): string[] | undefined {
  const ranges = [input.all ? 1 : 0, input.from !== undefined || input.to !== undefined ? 1 : 0, input.previousDay ? 1 : 0];
  if (ranges.reduce((a, b) => a + b, 0) > 1) throw invalid('give one of --from/--to, --all or previousDay');
  if (input.all) return undefined;
  try {
    if (input.from !== undefined || input.to !== undefined) {
      if (input.from === undefined || input.to === undefined) throw invalid('--from and --to go together');
      return hoursBetween(parseHour(input.from), parseHour(input.to));
    }
    if (opts.requireRange) throw invalid('give --from and --to, or --all');
    if (input.previousDay) return previousDayHours(Date.now());
    const n = input.lastHours ?? DEFAULT_LAST_HOURS;
    if (!Number.isInteger(n) || n < 1) throw invalid(`lastHours must be a positive integer, got ${n}`);
    return lastHours(Date.now(), n);
  } catch (err) {
    if (err instanceof HourFormatError) throw invalid(err.message);
    throw err;
  }
}
