/** The reads of verify and rebuild: one lake partition, the publish state, and the warehouse side of an hour. */
import type { Client } from 'cassandra-driver';
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { canonicalDecimal } from '../domain/transform';
import { hourStartMs, warehouseHour } from '../domain/hours';
import type { LakeEvent, WarehouseRow } from './recompute';

const GREGORIAN_OFFSET_TICKS = 122_192_928_000_000_000n;
const VERSION_1 = 1n << 60n;
const IN_LIST = 100;

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Every event of one hour: a single partition of events_by_hour, paged. */
export async function readLakeHour(cassandra: Client, keyspace: string, hour: string, keepAlive?: () => void): Promise<LakeEvent[]> {
  const rs = await cassandra.execute(
    `SELECT create_time, job_id, custom_track, bid, campaign_id, group_id, publisher_id, ingest_batch FROM ${keyspace}.events_by_hour WHERE hour = ?`,
    [hour],
    { prepare: true, fetchSize: 5000 },
  );
  const out: LakeEvent[] = [];
  for await (const r of rs) {
    out.push({
      create_time: String(r['create_time']),
      job_id: numberOrNull(r['job_id']),
      custom_track: (r['custom_track'] as string | null) ?? null,
      bid: numberOrNull(r['bid']),
      campaign_id: numberOrNull(r['campaign_id']),
      group_id: numberOrNull(r['group_id']),
      publisher_id: numberOrNull(r['publisher_id']),
      ingestBatch: String(r['ingest_batch']),
    });
    if (out.length % 5000 === 0) keepAlive?.();
  }
  return out;
}

/** The batches among `batches` whose publish has completed (publish_progress.completed). */
export async function readPublishedBatches(cassandra: Client, keyspace: string, batches: Iterable<string>): Promise<Set<string>> {
  const all = [...new Set(batches)];
  const out = new Set<string>();
  for (let i = 0; i < all.length; i += IN_LIST) {
    const rs = await cassandra.execute(
      `SELECT ingest_batch, completed FROM ${keyspace}.publish_progress WHERE ingest_batch IN ?`,
      [all.slice(i, i + IN_LIST)],
      { prepare: true },
    );
    for (const r of rs.rows) if (r['completed'] === true) out.add(String(r['ingest_batch']));
  }
  return out;
}

/** The first 8 bytes of a ledger key at `ms`: the 60-bit UUID time behind the version nibble, big-endian. */
function ledgerPrefix(ms: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(VERSION_1 | (BigInt(ms) * 10_000n + GREGORIAN_OFFSET_TICKS));
  return b;
}

/**
 * The ledger keys of one hour form one key range: the key is the time UUID with its time fields ordered high to
 * low (lib/stream/commit.ts eventIdKey), and the hour of an event is the hour of that time.
 */
export function ledgerKeyRange(hour: string): [Buffer, Buffer] {
  const start = hourStartMs(hour);
  if (start === undefined) throw new RangeError(`not an hour: ${hour}`);
  return [ledgerPrefix(start), ledgerPrefix(start + 3_600_000)];
}

/** The event id (UUID text) of a ledger key. */
export function eventIdOfKey(key: Buffer): string {
  const h = key.toString('hex');
  return `${h.slice(8, 16)}-${h.slice(4, 8)}-${h.slice(0, 4)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Counted event ids of one hour. `lock` reads them with shared locks (rebuild), otherwise from the snapshot. */
export async function readLedgerHour(conn: PoolConnection, hour: string, lock = false): Promise<Set<string>> {
  const [lo, hi] = ledgerKeyRange(hour);
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT event_id FROM counted_events WHERE event_id >= ? AND event_id < ?${lock ? ' LOCK IN SHARE MODE' : ''}`,
    [lo, hi],
  );
  return new Set(rows.map((r) => eventIdOfKey(r['event_id'] as Buffer)));
}

const ROW_SELECT = `SELECT job_id, DATE_FORMAT(dates, '%Y-%m-%d') AS dates, hours, publisher_id, campaign_id, group_id,
  CAST(bid_set AS CHAR) AS bid_set, clicks, CAST(spend_hour AS CHAR) AS spend_hour, conversion, qualified_application,
  disqualified_application, company_id, sources, CAST(bid_sum AS CHAR) AS bid_sum
FROM events WHERE dates = ? AND hours = ?`;

/** The warehouse rows of one hour (on the index of migration 005), decimals as canonical text. */
export async function readWarehouseHour(conn: PoolConnection, hour: string, lock = false): Promise<WarehouseRow[]> {
  const { dates, hours } = warehouseHour(hour);
  const [rows] = await conn.query<RowDataPacket[]>(`${ROW_SELECT}${lock ? ' FOR UPDATE' : ''}`, [dates, hours]);
  return rows.map((r) => ({
    job_id: Number(r['job_id']),
    dates: String(r['dates']),
    hours: Number(r['hours']),
    publisher_id: Number(r['publisher_id']),
    campaign_id: Number(r['campaign_id']),
    group_id: Number(r['group_id']),
    bid_set: canonicalDecimal(r['bid_set'] as string | null),
    clicks: Number(r['clicks']),
    spend_hour: canonicalDecimal(String(r['spend_hour']))!,
    conversion: Number(r['conversion']),
    qualified_application: Number(r['qualified_application']),
    disqualified_application: Number(r['disqualified_application']),
    company_id: numberOrNull(r['company_id']),
    sources: String(r['sources']),
    bid_sum: canonicalDecimal(String(r['bid_sum']))!,
  }));
}

/** job id -> company id from the job dimension (a job missing from it maps to null). */
export async function readCompanies(conn: PoolConnection, jobIds: Iterable<number>): Promise<Map<number, number | null>> {
  const ids = [...new Set(jobIds)];
  const out = new Map<number, number | null>();
  for (let i = 0; i < ids.length; i += 1000) {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT id, company_id FROM job WHERE id IN (?)', [ids.slice(i, i + 1000)]);
    for (const r of rows) out.set(Number(r['id']), numberOrNull(r['company_id']));
  }
  return out;
}

/**
 * The consumer's stored offsets. With `lock`, FOR UPDATE at REPEATABLE READ: every stream batch of the group
 * waits until the caller commits (the batch transaction locks its offset row first), and the gap lock also holds
 * back a partition's first offset row.
 */
export async function readOffsets(conn: PoolConnection, group: string, topic: string, lock = false): Promise<Map<number, string>> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT partition_id, next_offset FROM consumer_offsets WHERE consumer_group = ? AND topic = ? ORDER BY partition_id${lock ? ' FOR UPDATE' : ''}`,
    [group, topic],
  );
  return new Map(rows.map((r) => [Number(r['partition_id']), String(r['next_offset'])]));
}
