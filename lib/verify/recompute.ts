/**
 * What the warehouse rows of one hour must be, recomputed from the lake with the stream's own functions, and
 * how they compare with the rows found. Pure: the reads are in lib/verify/read.ts.
 */
import { decodeMessage, encodeMessage, PoisonMessageError, toMessage } from '../domain/message';
import type { LakeEventFields } from '../domain/message';
import type { Aggregate, CountableEvent } from '../domain/transform';
import { aggregate, bidSet, canonicalDecimal, classify, groupKeyString, microsToDecimal } from '../domain/transform';

/** One lake event of the hour: the publish fields plus the batch that wrote (and queued) it. */
export interface LakeEvent extends LakeEventFields {
  ingestBatch: string;
}

export type LakeOutcome = 'countable' | 'filtered' | 'unattributed' | 'deadLettered' | 'publishQuarantined';

export interface ClassifiedHour {
  countable: Array<{ event: CountableEvent; ingestBatch: string }>;
  counts: Record<LakeOutcome, number>;
  /** Every event id of the hour in the lake (countable or not). */
  ids: Set<string>;
}

/** The warehouse columns of one row; decimals as canonical text, NULL as null. */
export interface WarehouseRow {
  job_id: number;
  dates: string;
  hours: number;
  publisher_id: number;
  campaign_id: number;
  group_id: number;
  bid_set: string | null;
  clicks: number;
  spend_hour: string;
  conversion: number;
  qualified_application: number;
  disqualified_application: number;
  company_id: number | null;
  sources: string;
  bid_sum: string;
}

export const KEY_COLUMNS = ['job_id', 'dates', 'hours', 'publisher_id', 'campaign_id', 'group_id'] as const;
export const VALUE_COLUMNS = [
  'bid_set', 'clicks', 'spend_hour', 'conversion', 'qualified_application', 'disqualified_application',
  'company_id', 'sources', 'bid_sum',
] as const;
type ValueColumn = (typeof VALUE_COLUMNS)[number];

export interface ColumnDifference {
  column: ValueColumn;
  warehouse: string | number | null;
  lake: string | number | null;
}

export type Difference =
  | { kind: 'missing'; key: string; lake: WarehouseRow }
  | { kind: 'extra'; key: string; warehouse: WarehouseRow }
  | { kind: 'differs'; key: string; columns: ColumnDifference[] };

/**
 * The path a lake event takes to the warehouse, with the same functions: the publisher's toMessage (a throw is
 * quarantined at publish), the wire encoding, the consumer's decodeMessage and classify (a throw is
 * dead-lettered). Poison is a function of the lake row, so the dead-lettered lake events need no record.
 */
export function classifyLakeEvent(e: LakeEventFields): { kind: Exclude<LakeOutcome, 'countable'> } | { kind: 'countable'; event: CountableEvent } {
  let wire: string;
  try {
    wire = encodeMessage(toMessage(e));
  } catch {
    return { kind: 'publishQuarantined' };
  }
  try {
    const c = classify(decodeMessage(wire));
    return c.kind === 'countable' ? c : { kind: c.kind };
  } catch (err) {
    if (err instanceof PoisonMessageError || err instanceof TypeError) return { kind: 'deadLettered' };
    throw err;
  }
}

export function classifyHour(events: Iterable<LakeEvent>): ClassifiedHour {
  const out: ClassifiedHour = {
    countable: [],
    counts: { countable: 0, filtered: 0, unattributed: 0, deadLettered: 0, publishQuarantined: 0 },
    ids: new Set(),
  };
  for (const e of events) {
    out.ids.add(e.create_time);
    const c = classifyLakeEvent(e);
    out.counts[c.kind] += 1;
    if (c.kind === 'countable') out.countable.push({ event: c.event, ingestBatch: e.ingestBatch });
  }
  return out;
}

/** What is known about the stream when the warehouse rows were read. */
export interface StreamState {
  /** Event ids of the hour in the counted_events ledger (read with the rows, in one snapshot). */
  ledger: Set<string>;
  /** Ingest batches whose publish had completed before the rows were read. */
  publishedBatches: Set<string>;
  /** Messages on the topic not yet committed by the consumer, read after the rows. */
  lag: number;
}

/**
 * Which countable lake events the warehouse should contain. An event in the ledger is counted. One that is not:
 * its batch not yet published -> in flight (not published); published while the consumer lags -> in flight
 * (maybe not consumed); published and the consumer caught up -> it must have been counted (its ledger row was
 * pruned, or the transform changed), so it is expected.
 */
export interface Settlement {
  counted: CountableEvent[];
  /** Counted but not in the ledger: rebuild adds them to it. */
  unledgered: CountableEvent[];
  notPublished: CountableEvent[];
  notConsumed: CountableEvent[];
}

export function settle(countable: ClassifiedHour['countable'], s: StreamState): Settlement {
  const out: Settlement = { counted: [], unledgered: [], notPublished: [], notConsumed: [] };
  for (const { event, ingestBatch } of countable) {
    if (s.ledger.has(event.eventId)) out.counted.push(event);
    else if (!s.publishedBatches.has(ingestBatch)) out.notPublished.push(event);
    else if (s.lag > 0) out.notConsumed.push(event);
    else {
      out.counted.push(event);
      out.unledgered.push(event);
    }
  }
  return out;
}

/** Warehouse rows of aggregates, as the stream writes them; company from the job dimension. */
export function rowsOf(aggregates: Aggregate[], companies: Map<number, number | null>): WarehouseRow[] {
  return aggregates.map((g) => {
    const sum = canonicalDecimal(microsToDecimal(g.bidSumMicros))!;
    return {
      job_id: g.jobId,
      dates: g.dates,
      hours: g.hours,
      publisher_id: g.publisherId,
      campaign_id: g.campaignId,
      group_id: g.groupId,
      bid_set: canonicalDecimal(bidSet(g.bidSumMicros, g.clicks)),
      clicks: g.clicks,
      spend_hour: sum,
      conversion: g.conversion,
      qualified_application: g.qualified,
      disqualified_application: g.disqualified,
      company_id: companies.get(g.jobId) ?? null,
      sources: 'Cassandra',
      bid_sum: sum,
    };
  });
}

export function expectedRows(events: CountableEvent[], companies: Map<number, number | null>): WarehouseRow[] {
  return rowsOf(aggregate(events), companies);
}

export function rowKey(r: Pick<WarehouseRow, (typeof KEY_COLUMNS)[number]>): string {
  return groupKeyString({ jobId: r.job_id, dates: r.dates, hours: r.hours, publisherId: r.publisher_id, campaignId: r.campaign_id, groupId: r.group_id });
}

function columnDifferences(lake: WarehouseRow, warehouse: WarehouseRow): ColumnDifference[] {
  const out: ColumnDifference[] = [];
  for (const column of VALUE_COLUMNS) {
    if (lake[column] !== warehouse[column]) out.push({ column, warehouse: warehouse[column], lake: lake[column] });
  }
  return out;
}

/** Column-by-column comparison, in key order: rows missing from the warehouse, extra rows, differing rows. */
export function compareRows(lake: WarehouseRow[], warehouse: WarehouseRow[]): Difference[] {
  const found = new Map(warehouse.map((r) => [rowKey(r), r]));
  const out: Difference[] = [];
  for (const row of lake) {
    const key = rowKey(row);
    const w = found.get(key);
    found.delete(key);
    if (!w) out.push({ kind: 'missing', key, lake: row });
    else {
      const columns = columnDifferences(row, w);
      if (columns.length) out.push({ kind: 'differs', key, columns });
    }
  }
  for (const [key, w] of found) out.push({ kind: 'extra', key, warehouse: w });
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The stream fills company_id of a job that reached the dimension after its first events a little later (its
 * job cache re-reads unknown jobs every 10 s and then fixes the rows): NULL where the job now has a company is
 * pending, not wrong.
 */
export function isCompanyPending(d: Difference): boolean {
  return d.kind === 'differs' && d.columns.every((c) => c.column === 'company_id' && c.warehouse === null && c.lake !== null);
}
