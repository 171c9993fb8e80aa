import type { Client } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Config } from '../config';
import { NotFound } from '../domain/errors';
import type { LakeStages, ReconcileInput, ReconcileResult, StreamStages } from './equations';
import { evaluate } from './equations';
import { readTopicLag } from './lag';
import { readOffsets } from '../verify/read';
import { readStreamTotals } from '../stream/commit';

export interface ReconcileDeps {
  cassandra: Client;
  kafka: Kafka;
  mysql: Pool;
  config: Config;
}

/** Named for what it is; as a taxonomy NotFound it ends a command with exit 1. */
export class BatchNotFoundError extends NotFound {}

interface BatchRow {
  batch: string;
  status: string;
  sourceFile: string;
  finishedAt?: Date;
  rowsRead: number;
  written: number;
  alreadyPresent: number;
  rejected: number;
  /** Why the file stopped before its end (set for failed batches and for batches that stopped part-way). */
  error: string | null;
}

interface ProgressRow {
  published: number;
  quarantined: number;
  completed: boolean;
}

const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

async function readBatches(cassandra: Client, ks: string, batch?: string): Promise<BatchRow[]> {
  const cols = 'ingest_batch, status, source_file, finished_at, rows_read, written, already_present, rejected, error';
  const rs =
    batch === undefined
      ? await cassandra.execute(`SELECT ${cols} FROM ${ks}.ingest_batches`, [], { prepare: true, fetchSize: 5000 })
      : await cassandra.execute(`SELECT ${cols} FROM ${ks}.ingest_batches WHERE ingest_batch = ?`, [batch], { prepare: true });
  const rows: BatchRow[] = [];
  // Async iteration fetches the following pages: one row per file, but years of files add up.
  for await (const r of rs) {
    rows.push({
      batch: String(r['ingest_batch']),
      status: String(r['status'] ?? ''),
      sourceFile: String(r['source_file'] ?? ''),
      finishedAt: r['finished_at'] instanceof Date ? r['finished_at'] : undefined,
      rowsRead: n(r['rows_read']),
      written: n(r['written']),
      alreadyPresent: n(r['already_present']),
      rejected: n(r['rejected']),
      error: typeof r['error'] === 'string' ? r['error'] : null,
    });
  }
  return rows;
}

async function readProgress(cassandra: Client, ks: string, batch?: string): Promise<Map<string, ProgressRow>> {
  const cols = 'ingest_batch, published, quarantined, completed';
  const rs =
    batch === undefined
      ? await cassandra.execute(`SELECT ${cols} FROM ${ks}.publish_progress`, [], { prepare: true, fetchSize: 5000 })
      : await cassandra.execute(`SELECT ${cols} FROM ${ks}.publish_progress WHERE ingest_batch = ?`, [batch], { prepare: true });
  const out = new Map<string, ProgressRow>();
  for await (const r of rs) {
    out.set(String(r['ingest_batch']), { published: n(r['published']), quarantined: n(r['quarantined']), completed: r['completed'] === true });
  }
  return out;
}

async function countQuarantine(cassandra: Client, ks: string, batch: string, stage: 'ingest' | 'publish'): Promise<number> {
  const rs = await cassandra.execute(`SELECT COUNT(*) AS n FROM ${ks}.quarantine WHERE ingest_batch = ? AND stage = ?`, [batch, stage], {
    prepare: true,
  });
  return n(rs.first()?.['n']);
}

/** Lake-side stages from Cassandra, for every batch or for one. */
export async function gatherLake(cassandra: Client, keyspace: string, batch?: string): Promise<LakeStages> {
  const [batches, progress] = await Promise.all([readBatches(cassandra, keyspace, batch), readProgress(cassandra, keyspace, batch)]);
  if (batch !== undefined && batches.length === 0) throw new BatchNotFoundError(`no ingest batch ${batch} in keyspace ${keyspace}`);
  const lake: LakeStages = {
    batchesIngested: 0,
    batchesIngesting: 0,
    batchesFailed: 0,
    failedBatches: [],
    stoppedBatches: [],
    rowsRead: 0,
    rejected: 0,
    alreadyPresent: 0,
    written: 0,
    quarantinedIngestRows: 0,
    batchesPublished: 0,
    batchesPublishing: 0,
    writtenOfPublished: 0,
    publishedOfPublished: 0,
    publishQuarantinedOfPublished: 0,
    published: 0,
    publishQuarantined: 0,
    quarantinedPublishRows: 0,
  };
  const ingested = batches.filter((b) => b.status === 'ingested');
  lake.batchesIngested = ingested.length;
  const failed = batches.filter((b) => b.status === 'failed');
  lake.batchesFailed = failed.length;
  lake.failedBatches = failed.map((b) => ({ batch: b.batch, file: b.sourceFile, failedAt: b.finishedAt?.toISOString() ?? null, error: b.error }));
  lake.stoppedBatches = ingested
    .filter((b) => b.error !== null)
    .map((b) => ({ batch: b.batch, file: b.sourceFile, failedAt: b.finishedAt?.toISOString() ?? null, error: b.error, rowsRead: b.rowsRead }));
  lake.batchesIngesting = batches.length - ingested.length - failed.length;
  const quarantine = await Promise.all(
    ingested.map(async (b) => [await countQuarantine(cassandra, keyspace, b.batch, 'ingest'), await countQuarantine(cassandra, keyspace, b.batch, 'publish')]),
  );
  ingested.forEach((b, i) => {
    lake.rowsRead += b.rowsRead;
    lake.rejected += b.rejected;
    lake.alreadyPresent += b.alreadyPresent;
    lake.written += b.written;
    lake.quarantinedIngestRows += quarantine[i]![0]!;
    lake.quarantinedPublishRows += quarantine[i]![1]!;
    const p = progress.get(b.batch);
    if (p?.completed) {
      lake.batchesPublished += 1;
      lake.writtenOfPublished += b.written;
      lake.publishedOfPublished += p.published;
      lake.publishQuarantinedOfPublished += p.quarantined;
    } else {
      lake.batchesPublishing += 1;
    }
  });
  // Only ingested batches are ever published, so this is everything on the topic from the lake.
  for (const p of progress.values()) {
    lake.published += p.published;
    lake.publishQuarantined += p.quarantined;
  }
  return lake;
}

/**
 * Stream counters, stored offsets and the warehouse sum, read in one consistent snapshot: the consumer
 * commits all three in one transaction, so a snapshot sees them agree even while it is running.
 */
export async function gatherWarehouse(
  mysql: Pool,
  group: string,
  topic: string,
): Promise<{ stream: Omit<StreamStages, 'lag' | 'publishMoved'>; offsets: Map<number, string> }> {
  const conn = await mysql.getConnection();
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    try {
      const totals = await readStreamTotals(conn, group, topic);
      const [sum] = await conn.query<RowDataPacket[]>(
        'SELECT COALESCE(SUM(clicks + conversion + qualified_application + disqualified_application), 0) AS n FROM events',
      );
      const { batches: _batches, ...outcomes } = totals;
      return {
        stream: { ...outcomes, warehouseCounted: n(sum[0]?.['n']) },
        offsets: await readOffsets(conn, group, topic),
      };
    } finally {
      await conn.query('COMMIT');
    }
  } finally {
    conn.release();
  }
}

/**
 * Reads every stage. The order matters for the transport check: the lake first, then the warehouse snapshot,
 * then Kafka's high watermarks (so "caught up" covers everything the snapshot could have seen), then the lake's
 * published total again (a batch published in between would make the sides incomparable: pending, not fail).
 */
export async function gatherReconcile(deps: ReconcileDeps, opts: { batch?: string } = {}): Promise<ReconcileInput> {
  const ks = deps.config.cassandra.keyspace;
  const { topic, consumerGroup } = deps.config.kafka;
  const lake = await gatherLake(deps.cassandra, ks, opts.batch);
  if (opts.batch !== undefined) return { batch: opts.batch, lake };
  const { stream, offsets } = await gatherWarehouse(deps.mysql, consumerGroup, topic);
  const lag = await readTopicLag(deps.kafka, topic, offsets);
  const progressAgain = await readProgress(deps.cassandra, ks);
  let publishedAgain = 0;
  for (const p of progressAgain.values()) publishedAgain += p.published;
  return { lake, stream: { ...stream, lag: lag.lag, publishMoved: publishedAgain !== lake.published } };
}

export async function reconcile(deps: ReconcileDeps, opts: { batch?: string } = {}): Promise<ReconcileResult> {
  return evaluate(await gatherReconcile(deps, opts));
}
