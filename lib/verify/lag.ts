import type { Admin, Kafka } from 'kafkajs';
import { partitionLags, totalLag } from '../kafka/lag';

/**
 * Consumer lag against stored offsets (partitionLags), with one admin connection for a whole run of hours
 * (callers may overlap). A topic that does not exist has nothing in flight.
 */
export class TopicLagReader {
  private admin: Promise<Admin> | undefined;
  private topicSeen = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
  ) {}

  private connect(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    this.admin.catch(() => (this.admin = undefined));
    return this.admin;
  }

  async lag(stored: Map<number, string>): Promise<number> {
    const admin = await this.connect();
    // A topic, once there, stays: only its absence is asked again.
    if (!this.topicSeen) {
      if (!(await admin.listTopics()).includes(this.topic)) return 0;
      this.topicSeen = true;
    }
    return totalLag(partitionLags(await admin.fetchTopicOffsets(this.topic), stored));
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await (await admin.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}
