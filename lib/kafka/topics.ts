import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import { ConfigResourceTypes } from 'kafkajs';
import { DEFAULT_MAX_BATCH_BYTES } from './sizedSend';
import { topicReplication } from '../clients/kafka';

export interface TopicInfo {
  partitions: number;
  /** The topic's `max.message.bytes`: the largest record batch (after compression) a send may carry. */
  maxBatchBytes: number;
}

/**
 * A new topic's settings: the configured replication factor and min.insync.replicas (a cluster: 3 and 2, so
 * an `acks=all` send survives one broker down and is on two brokers when acknowledged), else the broker's.
 */
export function topicSpec(kafka: Kafka, topic: string, partitions: number): ITopicConfig {
  const r = topicReplication(kafka);
  return {
    topic,
    numPartitions: partitions,
    ...(r.replicationFactor ? { replicationFactor: r.replicationFactor } : {}),
    ...(r.minInsyncReplicas ? { configEntries: [{ name: 'min.insync.replicas', value: String(r.minInsyncReplicas) }] } : {}),
  };
}

/**
 * Creates the topic on first use (brokers run with auto-creation off) and returns its partition count.
 * An existing topic is kept as it is: changing the partition count would move job keys between partitions.
 */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number): Promise<number> {
  return (await ensureTopicInfo(kafka, topic, partitions)).partitions;
}

/** ensureTopic, plus the topic's batch size limit (for sends split by size, lib/kafka/sizedSend.ts). */
export async function ensureTopicInfo(kafka: Kafka, topic: string, partitions: number): Promise<TopicInfo> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      try {
        await admin.createTopics({ topics: [topicSpec(kafka, topic, partitions)], waitForLeaders: true });
      } catch (err) {
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return { partitions: meta.topics[0]?.partitions.length ?? partitions, maxBatchBytes: await topicMaxBatchBytes(admin, topic) };
  } finally {
    await admin.disconnect();
  }
}

/**
 * The topic's effective `max.message.bytes` (its own setting or the broker's default). A broker that does
 * not answer DescribeConfigs (no permission) gets Kafka's default: a send then splits on its first refusal.
 */
export async function topicMaxBatchBytes(admin: Admin, topic: string): Promise<number> {
  try {
    const res = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      includeSynonyms: false,
    });
    const value = Number(res.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
    return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_BATCH_BYTES;
  } catch {
    return DEFAULT_MAX_BATCH_BYTES;
  }
}
