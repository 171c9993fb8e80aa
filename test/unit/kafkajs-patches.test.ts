import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import test from 'node:test';

// patches/kafkajs+2.2.4.patch is applied by `npm install` (postinstall: patch-package). These tests pin what the
// patch must keep: grouping order and the exact wire bytes of a record.
const require = createRequire(__filename);

interface Grouped {
  [partition: string]: { key: string; partition: number }[];
}
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (a: {
  topic: string;
  partitionMetadata: unknown[];
  messages: { key: string; partition: number }[];
  partitioner: (a: { message: { partition: number } }) => number;
}) => Grouped;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: {
  offsetDelta?: number;
  timestampDelta?: number;
  key: string;
  value: string;
  headers?: Record<string, string>;
}) => { buffer: Buffer };

void test('the kafkajs patch is applied: grouping appends in place instead of copying per message', () => {
  const source = fs.readFileSync(require.resolve('kafkajs/src/producer/groupMessagesPerPartition'), 'utf8');
  assert.ok(!source.includes('[...current, message]'), 'run npm install: patches/kafkajs+2.2.4.patch is missing');
});

void test('grouping keeps each partition in send order', () => {
  const messages = [0, 1, 2, 3, 4, 5, 6].map((i) => ({ key: `k${i}`, partition: i % 3 === 0 ? 2 : 0 }));
  const grouped = groupMessagesPerPartition({
    topic: 't',
    partitionMetadata: [{}, {}, {}],
    messages,
    partitioner: ({ message }) => message.partition,
  });
  assert.deepEqual(Object.keys(grouped).sort(), ['0', '2']);
  assert.deepEqual(grouped['2']!.map((m) => m.key), ['k0', 'k3', 'k6']);
  assert.deepEqual(grouped['0']!.map((m) => m.key), ['k1', 'k2', 'k4', 'k5']);
  assert.deepEqual(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 }), {});
});

void test('a record encodes to the bytes of the Kafka record format, worked out by hand', () => {
  // length 9 -> zigzag varint 0x12; attributes 0; timestampDelta 0; offsetDelta 1 -> 0x02;
  // key "7": length 1 -> 0x02, 0x37; value "ab": length 2 -> 0x04, 0x61 0x62; no headers -> 0x00.
  const bytes = Record({ offsetDelta: 1, timestampDelta: 0, key: '7', value: 'ab' }).buffer;
  assert.deepEqual([...bytes], [0x12, 0x00, 0x00, 0x02, 0x02, 0x37, 0x04, 0x61, 0x62, 0x00]);
  // A header "h" = "v": body 8 + count 1 + key 2 + value 2 = 13 -> 0x1a, header count 1 -> 0x02.
  const withHeader = Record({ offsetDelta: 1, timestampDelta: 0, key: '7', value: 'ab', headers: { h: 'v' } }).buffer;
  assert.deepEqual([...withHeader], [0x1a, 0x00, 0x00, 0x02, 0x02, 0x37, 0x04, 0x61, 0x62, 0x02, 0x02, 0x68, 0x02, 0x76]);
});

interface FakeBroker {
  nodeId: number;
  produce(req: { topicData: Array<{ topic: string; partitions: Array<{ partition: number; messages: unknown[] }> }> }): Promise<unknown>;
}
const sendMessages = require('kafkajs/src/producer/sendMessages') as (deps: unknown) => (req: unknown) => Promise<Array<{ partition: number }>>;
const createRetry = require('kafkajs/src/retry') as (o: unknown) => unknown;
const { KafkaJSProtocolError } = require('kafkajs/src/errors') as { KafkaJSProtocolError: new (e: unknown) => Error };

void test('a send re-sends a partition whose leader moved to a broker that had already answered (leader change)', async () => {
  // Partitions 0 and 1: broker 1 leads 0, broker 2 leads 1. Broker 1 dies mid-send; partition 0 moves to broker 2.
  let leaders: Record<number, number> = { 0: 1, 1: 2 };
  const produced: Array<{ broker: number; partitions: number[] }> = [];
  const broker = (nodeId: number): FakeBroker => ({
    nodeId,
    async produce({ topicData }) {
      const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
      produced.push({ broker: nodeId, partitions });
      if (nodeId === 1) {
        leaders = { 0: 2, 1: 2 };
        throw new KafkaJSProtocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'not leader' });
      }
      return { topics: [{ topicName: 't', partitions: partitions.map((partition) => ({ partition, errorCode: 0, baseOffset: '0' })) }] };
    },
  });
  const brokers = { 1: broker(1), 2: broker(2) };
  const cluster = {
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    findTopicPartitionMetadata: () => [{ partitionId: 0 }, { partitionId: 1 }],
    findLeaderForPartitions: (_t: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const p of partitions) (out[leaders[Number(p)]!] ??= []).push(Number(p));
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: number }) => brokers[nodeId as 1 | 2],
  };
  const eosManager = {
    acquireBrokerLock: async () => undefined,
    releaseBrokerLock: async () => undefined,
    isTransactional: () => false,
    getSequence: () => 0,
    updateSequence: () => undefined,
    getProducerId: () => -1,
    getProducerEpoch: () => 0,
  };
  const logger = { debug: () => undefined, error: () => undefined };
  const send = sendMessages({
    logger, cluster, eosManager,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    retrier: createRetry({ retries: 3, initialRetryTime: 1 }),
  });
  const responses = await send({ acks: -1, topicMessages: [{ topic: 't', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] }] });
  assert.deepEqual(responses.map((r) => r.partition).sort(), [0, 1], 'both partitions acknowledged');
  const resent = produced.slice(2);
  assert.deepEqual(resent, [{ broker: 2, partitions: [0] }], `partition 0 re-sent to its new leader, partition 1 not again: ${JSON.stringify(produced)}`);
});
