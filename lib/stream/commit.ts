import type { ConsumeCounts } from '../domain/counters';
import { STREAM_COUNTER_COLUMNS } from '../domain/counters';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { CountableEvent } from '../domain/transform';
import { aggregate, bidSet, microsToDecimal } from '../domain/transform';
import type { FaultHook } from '../faults';
import type { JobDirectory } from './jobCompanyLookup';
import { fixUnknownCompanies } from './jobCompanyLookup';
import { inTransaction as runInTransaction } from '../clients/mysql';

export interface PartitionRef {
  group: string;
  topic: string;
  partition: number;
}

export interface StageCounts {
  consumed: number;
  filtered: number;
  unattributed: number;
  deadLettered: number;
}

export type OriginKind = 'countable' | 'filtered' | 'unattributed' | 'deadLettered';

/** A message's position in the lake's publish queue (from its headers), with how it was classified. */
export interface MessageOrigin {
  offset: string;
  batch: string;
  seq: number;
  kind: OriginKind;
}

export interface BatchCommitInput extends PartitionRef {
  /** The offset this batch starts from: it must be the stored next_offset (compare-and-set). */
  expectedOffset: string;
  /** When no offset is stored yet, the batch must start here (the partition's earliest offset). */
  earliestOffset?: string;
  /** Stored after commit: the last offset of the batch + 1. */
  nextOffset: string;
  countable: Array<{ event: CountableEvent; offset: string }>;
  counts: StageCounts;
  /** Publish positions of the messages that carry them, in offset order. */
  origins?: MessageOrigin[];
  attemptToken: string;
  /** Test-only fault hook (lib/faults.ts): called just before and just after COMMIT. */
  fault?: FaultHook;
}

export type BatchCommitResult =
  | {
      status: 'committed';
      counted: number;
      duplicates: number;
      redelivered: number;
      /** The batch's stage counts with redelivered copies taken out. */
      counts: StageCounts;
      unknownJob: number;
      rows: number;
      fixedRows: number;
    }
  | { status: 'fenced'; storedOffset: string | null };

const LEDGER_CHUNK = 5000;
const UPSERT_CHUNK = 2000;

/**
 * The ledger key: the UUID's 16 bytes with the time fields ordered high to low (time_hi, time_mid,
 * time_low), so ids of nearby events sort together and inserts stay near the right edge of the index.
 */
export function eventIdKey(eventId: string): Buffer {
  const hex = eventId.replace(/-/g, '').toLowerCase();
  return Buffer.from(hex.slice(12, 16) + hex.slice(8, 12) + hex.slice(0, 8) + hex.slice(16), 'hex');
}

function sqlNow(): string {
  return new Date().toISOString().replace('T', ' ').slice(0, 23);
}

const UPSERT_EVENTS = `INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, bid_set, clicks,
  spend_hour, conversion, qualified_application, disqualified_application, company_id, sources, bid_sum, updated_at)
VALUES ?
ON DUPLICATE KEY UPDATE
  bid_set = IF(clicks + VALUES(clicks) = 0, NULL, ROUND((bid_sum + VALUES(bid_sum)) / (clicks + VALUES(clicks)), 2)),
  bid_sum = bid_sum + VALUES(bid_sum),
  spend_hour = spend_hour + VALUES(spend_hour),
  clicks = clicks + VALUES(clicks),
  conversion = conversion + VALUES(conversion),
  qualified_application = qualified_application + VALUES(qualified_application),
  disqualified_application = disqualified_application + VALUES(disqualified_application),
  company_id = COALESCE(VALUES(company_id), company_id),
  updated_at = VALUES(updated_at)`;
// bid_set comes first and is written only in terms of the old values plus VALUES(): MySQL evaluates the
// assignments left to right (later ones see earlier results) while MariaDB's SIMULTANEOUS_ASSIGNMENT mode
// does not; this form gives the same answer under both.

const ADD_COUNTERS = `INSERT INTO stream_counters (consumer_group, topic, partition_id, consumed, counted, filtered,
  unattributed, dead_lettered, duplicates, redelivered, unknown_job, batches, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
ON DUPLICATE KEY UPDATE
  consumed = consumed + VALUES(consumed), counted = counted + VALUES(counted), filtered = filtered + VALUES(filtered),
  unattributed = unattributed + VALUES(unattributed), dead_lettered = dead_lettered + VALUES(dead_lettered),
  duplicates = duplicates + VALUES(duplicates), redelivered = redelivered + VALUES(redelivered), unknown_job = unknown_job + VALUES(unknown_job),
  batches = batches + 1, updated_at = VALUES(updated_at)`;

/**
 * Applies one batch of one partition in a single transaction: offset compare-and-set, ledger, warehouse
 * upsert, counters, offset advance. Either everything of the batch is visible or nothing is; a batch whose
 * starting offset is not the stored one (a zombie, or a stale owner after a rebalance) is refused.
 */
export async function commitBatch(pool: Pool, jobs: JobDirectory, input: BatchCommitInput): Promise<BatchCommitResult> {
  // The job lookup reads a dimension, not our rows: done before the transaction to keep it short.
  const lookup = await jobs.lookup([...new Set(input.countable.map((c) => c.event.jobId))]);

  const at = { stage: 'stream', partition: input.partition, expectedOffset: input.expectedOffset } as const;
  return runInTransaction(
    pool,
    async (conn) => {
      const result = await applyBatch(conn, input, lookup);
      // A fenced batch changed nothing it may keep: its writes roll back.
      return { value: result, commit: result.status !== 'fenced' };
    },
    {
      isolation: 'READ COMMITTED',
      beforeCommit: () => input.fault?.({ ...at, point: 'before-commit' }),
      afterCommit: () => input.fault?.({ ...at, point: 'after-commit' }),
    },
  );
}

const WATERMARK_UPSERT = `INSERT INTO publish_watermarks (consumer_group, topic, partition_id, ingest_batch, max_seq, updated_at)
VALUES ? ON DUPLICATE KEY UPDATE max_seq = GREATEST(max_seq, VALUES(max_seq)), updated_at = VALUES(updated_at)`;

/**
 * Drops copies re-sent by a publisher that crashed between Kafka's acknowledgement and its progress record.
 * Each publisher attempt sends a batch in increasing seq order, and a copy lands in the same partition as its
 * original (same key), after it; so the first copy of any seq is seen before any larger seq of that batch in
 * that partition, and `seq <= watermark` identifies exactly the copies.
 */
async function applyWatermarks(
  conn: PoolConnection,
  input: BatchCommitInput,
  now: string,
): Promise<{ redelivered: Set<string>; removed: Record<OriginKind, number> }> {
  const removed: Record<OriginKind, number> = { countable: 0, filtered: 0, unattributed: 0, deadLettered: 0 };
  const redelivered = new Set<string>();
  const origins = input.origins ?? [];
  if (!origins.length) return { redelivered, removed };
  const ref = [input.group, input.topic, input.partition];
  const batches = [...new Set(origins.map((o) => o.batch))];
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT ingest_batch, max_seq FROM publish_watermarks WHERE consumer_group = ? AND topic = ? AND partition_id = ? AND ingest_batch IN (?)',
    [...ref, batches],
  );
  const marks = new Map(rows.map((r) => [String(r['ingest_batch']), Number(r['max_seq'])]));
  const changed = new Set<string>();
  for (const o of origins) {
    if (o.seq <= (marks.get(o.batch) ?? -1)) {
      redelivered.add(o.offset);
      removed[o.kind] += 1;
    } else {
      marks.set(o.batch, o.seq);
      changed.add(o.batch);
    }
  }
  if (changed.size) {
    await conn.query(WATERMARK_UPSERT, [[...changed].map((b) => [...ref, b, marks.get(b), now])]);
  }
  return { redelivered, removed };
}

type Lookup = Awaited<ReturnType<JobDirectory['lookup']>>;
type Candidate = { event: CountableEvent; offset: string; key: Buffer };

/** Locks the partition's offset row: the batch goes on only if it starts where the stored offset says. */
async function lockOffset(conn: PoolConnection, input: BatchCommitInput): Promise<{ accepted: boolean; stored: string | null }> {
  const [offsetRows] = await conn.query<RowDataPacket[]>(
    'SELECT next_offset FROM consumer_offsets WHERE consumer_group = ? AND topic = ? AND partition_id = ? FOR UPDATE',
    [input.group, input.topic, input.partition],
  );
  const stored = offsetRows[0] ? String(offsetRows[0]['next_offset']) : null;
  const accepted =
    stored === null
      ? input.earliestOffset !== undefined && input.expectedOffset === input.earliestOffset
      : stored === input.expectedOffset;
  return { accepted, stored };
}

/** The batch's countable events less redelivered copies, one per event id; and how many repeats it had. */
export function uniqueCountable(
  countable: BatchCommitInput['countable'],
  redelivered: ReadonlySet<string>,
): { candidates: Candidate[]; inBatchDuplicates: number } {
  const unique = new Map<string, Candidate>();
  let inBatchDuplicates = 0;
  for (const c of countable) {
    if (redelivered.has(c.offset)) continue;
    if (unique.has(c.event.eventId)) inBatchDuplicates += 1;
    else unique.set(c.event.eventId, { ...c, key: eventIdKey(c.event.eventId) });
  }
  return { candidates: [...unique.values()], inBatchDuplicates };
}

/** Enters the candidates not yet in the ledger (counted_events) and returns them: the events to count. */
async function enterLedger(conn: PoolConnection, partition: number, candidates: Candidate[]): Promise<Candidate[]> {
  const seen = new Set<string>();
  for (let i = 0; i < candidates.length; i += LEDGER_CHUNK) {
    const keys = candidates.slice(i, i + LEDGER_CHUNK).map((c) => c.key);
    const [rows] = await conn.query<RowDataPacket[]>('SELECT event_id FROM counted_events WHERE event_id IN (?)', [keys]);
    for (const r of rows) seen.add((r['event_id'] as Buffer).toString('hex'));
  }
  const fresh = seen.size ? candidates.filter((c) => !seen.has(c.key.toString('hex'))) : candidates;
  for (let i = 0; i < fresh.length; i += LEDGER_CHUNK) {
    const rows = fresh.slice(i, i + LEDGER_CHUNK).map((c) => [c.key, partition, c.offset]);
    await conn.query('INSERT INTO counted_events (event_id, partition_id, kafka_offset) VALUES ?', [rows]);
  }
  return fresh;
}

/** Adds the fresh events, aggregated per warehouse row, to the events table; returns the row count. */
async function upsertEvents(conn: PoolConnection, fresh: Candidate[], lookup: Lookup, now: string): Promise<number> {
  const groups = aggregate(fresh.map((c) => c.event));
  for (let i = 0; i < groups.length; i += UPSERT_CHUNK) {
    const rows = groups.slice(i, i + UPSERT_CHUNK).map((g) => {
      const bidSum = microsToDecimal(g.bidSumMicros);
      return [
        g.jobId, g.dates, g.hours, g.publisherId, g.campaignId, g.groupId,
        bidSet(g.bidSumMicros, g.clicks), g.clicks, bidSum, g.conversion, g.qualified, g.disqualified,
        lookup.jobs.get(g.jobId)?.companyId ?? null, 'Cassandra', bidSum, now,
      ];
    });
    await conn.query(UPSERT_EVENTS, [rows]);
  }
  return groups.length;
}

/** Moves the stored offset to the batch's end; false when another attempt created the first row meanwhile. */
async function advanceOffset(conn: PoolConnection, input: BatchCommitInput, stored: string | null, now: string): Promise<boolean> {
  const ref = [input.group, input.topic, input.partition];
  if (stored !== null) {
    await conn.query(
      'UPDATE consumer_offsets SET next_offset = ?, attempt_token = ?, updated_at = ? WHERE consumer_group = ? AND topic = ? AND partition_id = ?',
      [input.nextOffset, input.attemptToken, now, ...ref],
    );
    return true;
  }
  try {
    await conn.query(
      'INSERT INTO consumer_offsets (consumer_group, topic, partition_id, next_offset, attempt_token, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
      [...ref, input.nextOffset, input.attemptToken, now],
    );
    return true;
  } catch (err) {
    // Two attempts raced to create the first offset row: the loser is fenced like any stale attempt.
    if ((err as { code?: string }).code === 'ER_DUP_ENTRY') return false;
    throw err;
  }
}

/** The batch's stage counts with the redelivered copies taken out. */
function countsLessRedelivered(counts: StageCounts, removed: Record<OriginKind, number>): StageCounts {
  return {
    consumed: counts.consumed,
    filtered: counts.filtered - removed.filtered,
    unattributed: counts.unattributed - removed.unattributed,
    deadLettered: counts.deadLettered - removed.deadLettered,
  };
}

/**
 * The body of a batch transaction, in order: offset compare-and-set, publish watermarks (redelivered copies),
 * ledger (duplicates), warehouse upsert, company fix-up, offset advance, counters.
 */
async function applyBatch(conn: PoolConnection, input: BatchCommitInput, lookup: Lookup): Promise<BatchCommitResult> {
  const { accepted, stored } = await lockOffset(conn, input);
  if (!accepted) return { status: 'fenced', storedOffset: stored };
  const now = sqlNow();
  const { redelivered, removed } = await applyWatermarks(conn, input, now);
  const counts = countsLessRedelivered(input.counts, removed);
  // Then dedupe by event id: the same event may also reach the topic twice through two ingest batches.
  const { candidates, inBatchDuplicates } = uniqueCountable(input.countable, redelivered);
  const fresh = await enterLedger(conn, input.partition, candidates);
  let unknownJob = 0;
  for (const c of fresh) if (!lookup.jobs.get(c.event.jobId)?.known) unknownJob += 1;
  const rows = await upsertEvents(conn, fresh, lookup, now);
  const fixedRows = lookup.refreshed.length ? await fixUnknownCompanies(conn, lookup.refreshed) : 0;
  if (!(await advanceOffset(conn, input, stored, now))) return { status: 'fenced', storedOffset: null };
  const duplicates = inBatchDuplicates + (candidates.length - fresh.length);
  await conn.query(ADD_COUNTERS, [
    input.group, input.topic, input.partition,
    counts.consumed, fresh.length, counts.filtered, counts.unattributed, counts.deadLettered,
    duplicates, redelivered.size, unknownJob, now,
  ]);
  return { status: 'committed', counted: fresh.length, duplicates, redelivered: redelivered.size, counts, unknownJob, rows, fixedRows };
}

export async function readStoredOffset(db: Pool | PoolConnection, ref: PartitionRef): Promise<string | null> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT next_offset FROM consumer_offsets WHERE consumer_group = ? AND topic = ? AND partition_id = ?',
    [ref.group, ref.topic, ref.partition],
  );
  return rows[0] ? String(rows[0]['next_offset']) : null;
}

export async function readStoredOffsets(db: Pool, group: string, topic: string): Promise<Map<number, string>> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT partition_id, next_offset FROM consumer_offsets WHERE consumer_group = ? AND topic = ?',
    [group, topic],
  );
  return new Map(rows.map((r) => [Number(r['partition_id']), String(r['next_offset'])]));
}

/** Committed per-stage totals: the same shape a lease reports for itself. */
export type StreamTotals = ConsumeCounts;

const TOTALS_SQL = `SELECT ${Object.entries(STREAM_COUNTER_COLUMNS).map(([, col]) => `COALESCE(SUM(${col}),0) ${col}`).join(', ')}
  FROM stream_counters WHERE consumer_group = ? AND topic = ?`;

/**
 * The committed per-stage totals of a consumer group on a topic (exactly-once, they commit with offsets).
 * Reconcile reads them inside its snapshot transaction, so a connection is accepted too.
 */
export async function readStreamTotals(db: Pool | PoolConnection, group: string, topic: string): Promise<StreamTotals> {
  const [rows] = await db.query<RowDataPacket[]>(TOTALS_SQL, [group, topic]);
  const r: Record<string, unknown> = rows[0] ?? {};
  const totals = {} as StreamTotals;
  for (const [key, col] of Object.entries(STREAM_COUNTER_COLUMNS)) totals[key as keyof StreamTotals] = Number(r[col] ?? 0);
  return totals;
}
