import type { Admin, Kafka } from 'kafkajs';

/**
 * Consumer lag against stored offsets, with one admin connection for a whole run of hours. A partition with no
 * stored offset lags by what the topic retains; a topic that does not exist has nothing in flight.
 */
export class TopicLagReader {
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  async lag(stored: Map<number, string>): Promise<number> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const topics = await this.admin.listTopics();
    if (!topics.includes(this.topic)) return 0;
    const offsets = await this.admin.fetchTopicOffsets(this.topic);
    let lag = 0;
    for (const o of offsets) lag += Math.max(0, Number(o.high) - Number(stored.get(o.partition) ?? o.low));
    return lag;
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
