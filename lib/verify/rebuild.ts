/**
 * `trackflow rebuild`: replace the warehouse rows of an hour with the rows recomputed from the lake, in one MySQL
 * transaction per hour, while the stream keeps running. The concurrency argument is in docs/stream.md.
 */
import type { PoolConnection } from 'mysql2/promise';
import { inTransaction } from '../clients/mysql';
import { eventIdKey } from '../stream/commit';
import type { CountableEvent } from '../domain/transform';
import { warehouseHour } from '../domain/hours';
import type { TopicLagReader } from './lag';
import { readCompanies, readLakeHour, readLedgerHour, readOffsets, readPublishedBatches, readWarehouseHour } from './read';
import type { ClassifiedHour, Difference, Settlement, WarehouseRow } from './recompute';
import { classifyHour, compareRows, expectedRows, settle } from './recompute';
import { MAX_DIFFERENCES_PER_HOUR } from './judge';
import type { VerifyDeps } from './verify';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RebuildHourResult {
  hour: string;
  dryRun: boolean;
  /** false when the rows already were the recomputed ones. */
  changed: boolean;
  /** The transaction replaced the rows (changed, or forced). */
  written: boolean;
  lakeEvents: number;
  /** Events counted in the rebuilt rows. */
  counted: number;
  /** Of those, events the ledger did not hold yet (added with partition -1). */
  ledgerAdded: number;
  /** Left to the stream: not yet published, or published and not yet consumed. */
  inFlight: number;
  rowsBefore: number;
  rowsAfter: number;
  differenceCount: number;
  differences: Difference[];
  /** Transactions rolled back by a deadlock or lock wait timeout and retried. */
  retries: number;
}

const INSERT_ROWS = `INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, bid_set, clicks, spend_hour,
  conversion, qualified_application, disqualified_application, company_id, sources, bid_sum, updated_at) VALUES ?`;
const ROW_CHUNK = 2000;
const LEDGER_CHUNK = 5000;
const MAX_ATTEMPTS = 8;
/** The ledger's partition_id for ids that rebuild counted (the stream writes 0..N-1). */
export const REBUILD_PARTITION = -1;

export interface RebuildOptions {
  dryRun?: boolean;
  /** Rewrite the rows even when they already are the recomputed ones (benchmarks, tests of concurrency). */
  force?: boolean;
  keepAlive?: () => void;
  /** Tests only: hold the transaction open this long between its ledger read and its row reads (widens any race). */
  holdMs?: number;
}

function isLockConflict(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}


/** Rebuilds one hour; a transaction chosen as a deadlock victim (or timed out on a lock) is retried whole. */
export async function rebuildHour(
  deps: VerifyDeps,
  lag: TopicLagReader,
  hour: string,
  opts: RebuildOptions = {},
): Promise<RebuildHourResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await rebuildHourOnce(deps, lag, hour, opts)), retries: attempt - 1 };
    } catch (err) {
      if (!isLockConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }
}

interface LakeRead {
  lake: ClassifiedHour;
  published: Set<string>;
}

async function readLake(deps: VerifyDeps, hour: string, keepAlive?: () => void): Promise<LakeRead> {
  const lake = classifyHour(await readLakeHour(deps.cassandra, deps.keyspace, hour, keepAlive));
  const published = await readPublishedBatches(deps.cassandra, deps.keyspace, lake.countable.map((c) => c.ingestBatch));
  return { lake, published };
}

/**
 * Lock order: the consumer group's offset rows (FOR UPDATE, in partition order), then the hour's ledger range,
 * then the hour's rows. A stream batch locks its partition's offset row before anything else, so while this
 * transaction holds the offset rows no batch is between its ledger check and its commit.
 */
async function rebuildHourOnce(
  deps: VerifyDeps,
  lag: TopicLagReader,
  hour: string,
  opts: RebuildOptions,
): Promise<Omit<RebuildHourResult, 'retries'>> {
  let read = await readLake(deps, hour, opts.keepAlive);
  return inTransaction(
    deps.mysql,
    async (conn) => {
      const offsets = await readOffsets(conn, deps.consumerGroup, deps.topic, true);
      const topicLag = await lag.lag(offsets);
      const ledger = await readLedgerHour(conn, hour, true);
      if (opts.holdMs) await sleep(opts.holdMs);
      // Counted since the lake was read: the event was in the lake before it was published, so read it again.
      if ([...ledger].some((id) => !read.lake.ids.has(id))) read = await readLake(deps, hour, opts.keepAlive);
      const s = settle(read.lake.countable, { ledger, publishedBatches: read.published, lag: topicLag });
      const companies = await readCompanies(conn, [...s.counted, ...s.notConsumed].map((e) => e.jobId));
      const before = await readWarehouseHour(conn, hour, true);
      const after = expectedRows(s.counted, companies);
      let differences = compareRows(after, before);
      if (differences.length && s.notConsumed.length && alreadyHoldsThem(s, companies, before)) differences = [];
      const result = summarise(hour, read.lake, s, before, after, differences, opts.dryRun === true);
      if (opts.dryRun || (!result.changed && !opts.force)) return { value: result, commit: false };
      await writeHour(conn, hour, s.unledgered, after);
      return { value: { ...result, written: true }, commit: true };
    },
    { isolation: 'REPEATABLE READ' },
  );
}

/**
 * While the consumer lags, a published event missing from the ledger is taken to be in flight and left to the
 * stream. If it was in fact counted and its ledger row pruned, leaving it out would drop it: so rows that hold
 * exactly the counted events plus those are left as they are.
 */
function alreadyHoldsThem(s: Settlement, companies: Map<number, number | null>, before: WarehouseRow[]): boolean {
  return compareRows(expectedRows([...s.counted, ...s.notConsumed], companies), before).length === 0;
}

function summarise(
  hour: string,
  lake: ClassifiedHour,
  s: Settlement,
  before: WarehouseRow[],
  after: WarehouseRow[],
  differences: Difference[],
  dryRun: boolean,
): Omit<RebuildHourResult, 'retries'> {
  const c = lake.counts;
  return {
    hour,
    dryRun,
    changed: differences.length > 0 || s.unledgered.length > 0,
    written: false,
    lakeEvents: c.countable + c.filtered + c.unattributed + c.deadLettered + c.publishQuarantined,
    counted: s.counted.length,
    ledgerAdded: s.unledgered.length,
    inFlight: s.notPublished.length + s.notConsumed.length,
    rowsBefore: before.length,
    rowsAfter: after.length,
    differenceCount: differences.length,
    differences: differences.slice(0, MAX_DIFFERENCES_PER_HOUR),
  };
}

async function writeHour(conn: PoolConnection, hour: string, unledgered: CountableEvent[], rows: WarehouseRow[]): Promise<void> {
  for (let i = 0; i < unledgered.length; i += LEDGER_CHUNK) {
    const ids = unledgered.slice(i, i + LEDGER_CHUNK).map((e) => [eventIdKey(e.eventId), REBUILD_PARTITION, -1]);
    await conn.query('INSERT INTO counted_events (event_id, partition_id, kafka_offset) VALUES ?', [ids]);
  }
  const { dates, hours } = warehouseHour(hour);
  await conn.query('DELETE FROM events WHERE dates = ? AND hours = ?', [dates, hours]);
  const now = new Date().toISOString().replace('T', ' ').slice(0, 23);
  for (let i = 0; i < rows.length; i += ROW_CHUNK) {
    const values = rows.slice(i, i + ROW_CHUNK).map((r) => [
      r.job_id, r.dates, r.hours, r.publisher_id, r.campaign_id, r.group_id, r.bid_set, r.clicks, r.spend_hour,
      r.conversion, r.qualified_application, r.disqualified_application, r.company_id, r.sources, r.bid_sum, now,
    ]);
    await conn.query(INSERT_ROWS, [values]);
  }
}
