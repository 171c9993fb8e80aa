import type { Kafka } from 'kafkajs';

/**
 * Creates the topic on first use (brokers run with auto-creation off) and returns its partition count.
 * An existing topic is kept as it is: changing the partition count would move job keys between partitions.
 */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
      } catch (err) {
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
      }
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? partitions;
  } finally {
    await admin.disconnect();
  }
}
