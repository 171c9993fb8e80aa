import type { Client } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';
import { partitionLags, totalLag } from '../kafka/lag';
import type { PartitionLag } from '../kafka/lag';

export type { PartitionLag } from '../kafka/lag';

export interface TopicLag {
  topicExists: boolean;
  partitions: PartitionLag[];
  lag: number;
}

/** Compares stored offsets with the topic's high watermarks (partitionLags). A missing topic has nothing to consume. */
export async function readTopicLag(kafka: Kafka, topic: string, stored: Map<number, string>): Promise<TopicLag> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return { topicExists: false, partitions: [], lag: 0 };
    const partitions = partitionLags(await admin.fetchTopicOffsets(topic), stored);
    return { topicExists: true, partitions, lag: totalLag(partitions) };
  } finally {
    await admin.disconnect();
  }
}

/** Ingest batches the publisher has not finished (rows of publish_pending). */
export async function readPendingBatches(cassandra: Client, keyspace: string): Promise<string[]> {
  const rs = await cassandra.execute(`SELECT ingest_batch FROM ${keyspace}.publish_pending WHERE shard = 0`, [], { prepare: true });
  return rs.rows.map((r) => String(r['ingest_batch']));
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST']);
const UNAVAILABLE_NAMES = new Set([
  'NoHostAvailableError',
  'OperationTimedOutError',
  'KafkaJSConnectionError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
]);

/** True when the error means a server could not be reached (exit 3), rather than a wrong answer. */
export function isUnavailable(err: unknown): boolean {
  for (let e = err as { code?: string; name?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
    if (e.name && UNAVAILABLE_NAMES.has(e.name)) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** A schema that was never migrated: a setup problem to name plainly, not a stack trace. */
export function missingSchema(err: unknown): string | undefined {
  const e = err as { code?: string; message?: string } | undefined;
  if (e?.code === 'ER_NO_SUCH_TABLE' || e?.code === 'ER_BAD_DB_ERROR') return `MySQL: ${e.message} (run npm run migrate)`;
  if (e?.message && /keyspace \S+ does not exist|unconfigured table/i.test(e.message)) return `Cassandra: ${e.message} (run npm run migrate)`;
  return undefined;
}
