/** The verdict on one hour from its recomputed and found rows. Pure. */
import type { ClassifiedHour, Difference, StreamState, WarehouseRow } from './recompute';
import { compareRows, expectedRows, isCompanyPending, settle } from './recompute';

export type HourStatus = 'verified' | 'differs' | 'not-settled';

/** At most this many differences per hour travel in results (the count is always exact). */
export const MAX_DIFFERENCES_PER_HOUR = 50;

export interface HourVerdict {
  hour: string;
  status: HourStatus;
  lakeEvents: number;
  countable: number;
  filtered: number;
  unattributed: number;
  deadLettered: number;
  publishQuarantined: number;
  /** Events not in the warehouse yet, legitimately. */
  inFlight: { notPublished: number; notConsumed: number; companyPending: number };
  lakeRows: number;
  warehouseRows: number;
  differenceCount: number;
  differences: Difference[];
}

export interface HourInputs {
  hour: string;
  lake: ClassifiedHour;
  stream: StreamState;
  companies: Map<number, number | null>;
  warehouse: WarehouseRow[];
}

/**
 * Compares the warehouse with the lake's rows, leaving out the events still in flight. When the consumer lags,
 * a published event missing from the ledger is either in flight or was counted and its ledger row pruned: if the
 * rows match only with those events counted, they were counted.
 */
export function judgeHour(input: HourInputs): HourVerdict {
  const s = settle(input.lake.countable, input.stream);
  let inFlightEvents = [...s.notPublished, ...s.notConsumed];
  let differences = compareRows(expectedRows(s.counted, input.companies), input.warehouse);
  let lakeRows = expectedRows(s.counted, input.companies).length;
  if (differences.some((d) => !isCompanyPending(d)) && s.notConsumed.length) {
    const withThem = compareRows(expectedRows([...s.counted, ...s.notConsumed], input.companies), input.warehouse);
    if (withThem.every(isCompanyPending)) {
      differences = withThem;
      inFlightEvents = s.notPublished;
      lakeRows = expectedRows([...s.counted, ...s.notConsumed], input.companies).length;
    }
  }
  const pending = differences.filter(isCompanyPending).length;
  const real = differences.filter((d) => !isCompanyPending(d));
  const notPublished = s.notPublished.length;
  const notConsumed = inFlightEvents.length - notPublished;
  const status: HourStatus = real.length ? 'differs' : notPublished + notConsumed + pending ? 'not-settled' : 'verified';
  const c = input.lake.counts;
  return {
    hour: input.hour,
    status,
    lakeEvents: c.countable + c.filtered + c.unattributed + c.deadLettered + c.publishQuarantined,
    countable: c.countable,
    filtered: c.filtered,
    unattributed: c.unattributed,
    deadLettered: c.deadLettered,
    publishQuarantined: c.publishQuarantined,
    inFlight: { notPublished, notConsumed, companyPending: pending },
    lakeRows,
    warehouseRows: input.warehouse.length,
    differenceCount: real.length,
    differences: real.slice(0, MAX_DIFFERENCES_PER_HOUR),
  };
}

export function inFlightTotal(v: Pick<HourVerdict, 'inFlight'>): number {
  return v.inFlight.notPublished + v.inFlight.notConsumed + v.inFlight.companyPending;
}

function show(v: string | number | null): string {
  return v === null ? 'NULL' : String(v);
}

/** One line per hour and one per difference, with both values. */
export function formatVerdict(v: HourVerdict): string {
  const head =
    v.status === 'verified'
      ? `${v.hour}  verified (${v.countable} counted events, ${v.lakeRows} rows)`
      : v.status === 'not-settled'
        ? `${v.hour}  not settled (${inFlightTotal(v)} events in flight: ${v.inFlight.notPublished} not published, ${v.inFlight.notConsumed} not consumed${v.inFlight.companyPending ? `, ${v.inFlight.companyPending} rows awaiting company_id` : ''})`
        : `${v.hour}  differs (${v.differenceCount} rows)`;
  return [head, ...formatDifferences(v.differences, v.differenceCount)].join('\n');
}

/** One indented line per difference, with the warehouse's and the lake's values. */
export function formatDifferences(differences: Difference[], total = differences.length): string[] {
  const lines: string[] = [];
  for (const d of differences) {
    const key = `(job_id|dates|hours|publisher_id|campaign_id|group_id) ${d.key}`;
    if (d.kind === 'missing') lines.push(`  missing  ${key}: warehouse has no row; lake ${rowText(d.lake)}`);
    else if (d.kind === 'extra') lines.push(`  extra    ${key}: lake has no such row; warehouse ${rowText(d.warehouse)}`);
    else lines.push(`  differs  ${key}: ${d.columns.map((c) => `${c.column} warehouse=${show(c.warehouse)} lake=${show(c.lake)}`).join(', ')}`);
  }
  if (total > differences.length) lines.push(`  ... and ${total - differences.length} more`);
  return lines;
}

function rowText(r: WarehouseRow): string {
  return `clicks=${r.clicks} spend_hour=${r.spend_hour} bid_set=${show(r.bid_set)} conversion=${r.conversion} qualified_application=${r.qualified_application} disqualified_application=${r.disqualified_application} company_id=${show(r.company_id)}`;
}
