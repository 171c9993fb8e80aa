import type { Client } from 'cassandra-driver';
import type { Kafka } from 'kafkajs';

export interface PartitionLag {
  partition: number;
  /** The topic's high watermark: the offset the next produced message will get. */
  high: number;
  /** The consumer group's stored next offset in MySQL (the partition's low watermark when none is stored). */
  next: number;
  lag: number;
}

export interface TopicLag {
  topicExists: boolean;
  partitions: PartitionLag[];
  lag: number;
}

/**
 * Compares stored offsets with the topic's high watermarks. A partition with no stored offset has consumed
 * nothing, so it lags by whatever is still retained (high - low). A missing topic has nothing to consume.
 */
export async function readTopicLag(kafka: Kafka, topic: string, stored: Map<number, string>): Promise<TopicLag> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return { topicExists: false, partitions: [], lag: 0 };
    const offsets = await admin.fetchTopicOffsets(topic);
    const partitions = offsets
      .map((o) => {
        const high = Number(o.high);
        const next = Number(stored.get(o.partition) ?? o.low);
        return { partition: o.partition, high, next, lag: Math.max(0, high - next) };
      })
      .sort((a, b) => a.partition - b.partition);
    return { topicExists: true, partitions, lag: partitions.reduce((n, p) => n + p.lag, 0) };
  } finally {
    await admin.disconnect();
  }
}

/** Ingest batches the publisher has not finished (rows of publish_pending). */
export async function readPendingBatches(cassandra: Client, keyspace: string): Promise<string[]> {
  const rs = await cassandra.execute(`SELECT ingest_batch FROM ${keyspace}.publish_pending WHERE shard = 0`, [], { prepare: true });
  return rs.rows.map((r) => String(r['ingest_batch']));
}

