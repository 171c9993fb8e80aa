import { createRequire } from 'node:module';
import path from 'node:path';
import type { Kafka, Message } from 'kafkajs';
import { compressionType } from '../lib/clients/kafkaCodecs';
import { isolatedConfig } from '../test/support/env';
import { createKafka } from '../lib/clients/kafka';
import { encodeMessageAs, messageKey } from '../lib/domain/message';
import { config } from '../lib/config';
import { ensureTopic } from '../lib/kafka/topics';
import { clickMessage } from './latency';
import type { Log } from './platform';
import { measureStage } from './resources';

/**
 * kafkajs and @confluentinc/kafka-javascript side by side: the same messages, the same topic layout, the same
 * send size and acks, one after the other in one process. The Confluent client is a native addon that
 * trackflow does not depend on; it is loaded from `moduleDir` (see bench/README.md for how to build it).
 */
export interface ClientRun {
  client: 'kafkajs' | 'confluent';
  stage: 'produce' | 'consume';
  messages: number;
  seconds: number;
  perSecond: number;
  cpuSeconds: number;
}

export interface ClientComparison {
  messages: number;
  sendSize: number;
  partitions: number;
  confluentVersion: string | null;
  librdkafkaVersion: string | null;
  runs: ClientRun[];
}

// The subset of the Confluent KafkaJS-compatible API used here.
interface ConfluentModule {
  KafkaJS: {
    Kafka: new (cfg: Record<string, unknown>) => {
      producer(cfg: Record<string, unknown>): { connect(): Promise<void>; disconnect(): Promise<void>; send(r: { topic: string; messages: Message[] }): Promise<unknown> };
      consumer(cfg: Record<string, unknown>): ConfluentConsumer;
    };
    CompressionTypes: Record<string, unknown>;
  };
  librdkafkaVersion?: string;
}
interface ConfluentConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: { eachBatch: (p: { batch: { messages: { value: Buffer | null }[] } }) => Promise<void> }): Promise<void>;
}

function sampleMessage(i: number, now: number): Message {
  const m = { ...clickMessage(i, now), pub: `bench-00000000:${i}` };
  return { key: messageKey(m), value: encodeMessageAs(config().kafka.messageVersion, m) };
}

/** Feeds every batch to a JSON.parse of each value until `messages` have been seen. */
async function parseUntilSeen(
  messages: number,
  run: (eachBatch: (p: { batch: { messages: { value: Buffer | null }[] } }) => Promise<void>) => Promise<void>,
): Promise<void> {
  let seen = 0;
  await new Promise<void>((resolve, reject) => {
    run(async ({ batch }) => {
      for (const m of batch.messages) if (m.value) JSON.parse(m.value.toString('utf8'));
      seen += batch.messages.length;
      if (seen >= messages) resolve();
    }).catch(reject);
  });
}

async function timed(client: ClientRun['client'], stage: ClientRun['stage'], messages: number, fn: () => Promise<void>, log: Log): Promise<ClientRun> {
  const { usage } = await measureStage(`${client} ${stage}`, fn);
  const run: ClientRun = {
    client,
    stage,
    messages,
    seconds: Number(usage.seconds.toFixed(2)),
    perSecond: Math.round(messages / usage.seconds),
    cpuSeconds: Number(usage.cpuSeconds.toFixed(1)),
  };
  log(`  ${client.padEnd(9)} ${stage.padEnd(8)} ${String(messages).padStart(9)} msgs ${run.seconds.toFixed(2).padStart(7)} s ${String(run.perSecond).padStart(8)} /s  CPU ${run.cpuSeconds} s`);
  return run;
}

/** The Confluent client and its version, resolved from `moduleDir`'s node_modules. */
function loadConfluent(moduleDir: string): { module: ConfluentModule; version: string } {
  const req = createRequire(path.join(path.resolve(moduleDir), 'noop.js'));
  return {
    module: req('@confluentinc/kafka-javascript') as ConfluentModule,
    version: (req('@confluentinc/kafka-javascript/package.json') as { version: string }).version,
  };
}

/**
 * kafkajs alone: a fresh group reads `topic` from the beginning with trackflow's fetch sizes and parses every
 * value, nothing else, until `messages` have arrived. The client's own ceiling for the stream stage.
 */
export async function kafkajsRawConsume(kafka: Kafka, topic: string, groupId: string, messages: number): Promise<void> {
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 512 * 1024, maxBytes: 2 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await parseUntilSeen(messages, (eachBatch) => consumer.run({ eachBatch }));
  } finally {
    await consumer.disconnect();
  }
}

export async function compareKafkaClients(opts: { messages: number; sendSize: number; moduleDir: string | null; log: Log }): Promise<ClientComparison> {
  const { messages, sendSize, log } = opts;
  const cfg = isolatedConfig('kclients');
  const partitions = cfg.kafka.partitions;
  const kafka = createKafka(cfg.kafka, 'bench');
  const now = Date.now();
  const pages: Message[][] = [];
  for (let i = 0; i < messages; i += sendSize) {
    const page: Message[] = [];
    for (let j = i; j < Math.min(messages, i + sendSize); j++) page.push(sampleMessage(j, now));
    pages.push(page);
  }
  const topics = { kafkajs: `${cfg.kafka.topic}.kafkajs`, confluent: `${cfg.kafka.topic}.confluent` };
  const loaded = opts.moduleDir ? loadConfluent(opts.moduleDir) : null;
  const confluent = loaded?.module ?? null;
  const result: ClientComparison = {
    messages,
    sendSize,
    partitions,
    confluentVersion: loaded?.version ?? null,
    librdkafkaVersion: confluent?.librdkafkaVersion ?? null,
    runs: [],
  };
  try {
    for (const topic of Object.values(topics)) await ensureTopic(kafka, topic, partitions);
    log(`produce: ${messages} messages, ${sendSize} per send, ${cfg.kafka.compression}, acks=all, one send in flight, ${partitions} partitions`);

    const producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    result.runs.push(await timed('kafkajs', 'produce', messages, async () => {
      for (const page of pages) await producer.send({ topic: topics.kafkajs, messages: page, acks: -1, compression: compressionType(cfg.kafka.compression) });
    }, log));
    await producer.disconnect();

    const brokers = cfg.kafka.brokers;
    if (confluent) {
      const ck = new confluent.KafkaJS.Kafka({ kafkaJS: { brokers, clientId: `${cfg.kafka.clientId}-bench` } });
      const cp = ck.producer({
        kafkaJS: { acks: -1, compression: confluent.KafkaJS.CompressionTypes[cfg.kafka.compression === 'none' ? 'None' : cfg.kafka.compression.toUpperCase()] },
        // Same ordering guarantee as the kafkajs producer above.
        'max.in.flight.requests.per.connection': 1,
      });
      await cp.connect();
      result.runs.push(await timed('confluent', 'produce', messages, async () => {
        for (const page of pages) await cp.send({ topic: topics.confluent, messages: page });
      }, log));
      await cp.disconnect();
    }

    log(`consume: from the beginning, JSON.parse of every value, until ${messages} messages (group join included)`);
    result.runs.push(await timed('kafkajs', 'consume', messages, () => kafkajsRawConsume(kafka, topics.kafkajs, `${cfg.kafka.consumerGroup}.kafkajs`, messages), log));

    if (confluent) {
      result.runs.push(await timed('confluent', 'consume', messages, async () => {
        const ck = new confluent.KafkaJS.Kafka({ kafkaJS: { brokers, clientId: `${cfg.kafka.clientId}-bench` } });
        const consumer = ck.consumer({
          kafkaJS: { groupId: `${cfg.kafka.consumerGroup}.confluent`, fromBeginning: true },
          'js.consumer.max.batch.size': 5000,
        });
        await consumer.connect();
        await consumer.subscribe({ topics: [topics.confluent] });
        await parseUntilSeen(messages, (eachBatch) => consumer.run({ eachBatch }));
        await consumer.disconnect();
      }, log));
    }
    return result;
  } finally {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
}
