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

