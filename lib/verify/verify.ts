/** `trackflow verify`: recompute each hour's warehouse rows from the lake and compare them with `events`. */
import type { Client } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type { HourVerdict } from './judge';
import { judgeHour } from './judge';
import type { TopicLagReader } from './lag';
import { readCompanies, readLakeHour, readLedgerHour, readOffsets, readPublishedBatches, readWarehouseHour } from './read';
import { classifyHour } from './recompute';

export interface VerifyDeps {
  cassandra: Client;
  kafka: Kafka;
  mysql: Pool;
  keyspace: string;
  topic: string;
  consumerGroup: string;
}

/**
 * One hour. The order of the reads is what makes "in flight" safe: the lake partition and its batches' publish
 * state first; then rows, ledger and offsets in one MySQL snapshot (the consumer commits them together, so they
 * agree); then Kafka's high watermarks. A batch seen published before the snapshot is on the topic before the
 * watermarks are read, so lag 0 means the snapshot holds every one of its events.
 */
export async function verifyHour(deps: VerifyDeps, lag: TopicLagReader, hour: string, keepAlive?: () => void): Promise<HourVerdict> {
  const lake = classifyHour(await readLakeHour(deps.cassandra, deps.keyspace, hour, keepAlive));
  const publishedBatches = await readPublishedBatches(deps.cassandra, deps.keyspace, lake.countable.map((c) => c.ingestBatch));
  const snapshot = await readWarehouseSnapshot(deps, hour, lake.countable.map((c) => c.event.jobId));
  const topicLag = await lag.lag(snapshot.offsets);
  return judgeHour({
    hour,
    lake,
    stream: { ledger: snapshot.ledger, publishedBatches, lag: topicLag },
    companies: snapshot.companies,
    warehouse: snapshot.rows,
  });
}

async function readWarehouseSnapshot(deps: VerifyDeps, hour: string, jobIds: number[]) {
  const conn = await deps.mysql.getConnection();
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    try {
      const rows = await readWarehouseHour(conn, hour);
      const ledger = await readLedgerHour(conn, hour);
      const offsets = await readOffsets(conn, deps.consumerGroup, deps.topic);
      const companies = await readCompanies(conn, [...jobIds, ...rows.map((r) => r.job_id)]);
      return { rows, ledger, offsets, companies };
    } finally {
      await conn.query('COMMIT');
    }
  } finally {
    conn.release();
  }
}
