/**
 * Hostile inputs against the real consumer (issue 13, cases 4, 6 and 7): every one must be dead-lettered or
 * counted, with the stage going on; none may stall a partition.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, test } from 'node:test';
import { CompressionTypes } from 'kafkajs';
import type { KafkaMessage, Message } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { createMysqlAdminPool } from '../../lib/clients/mysql';
import { encodeMessage } from '../../lib/domain/message';
import type { TrackingMessageV1 } from '../../lib/domain/message';
import { makeTimeUuid } from '../../lib/domain/timeuuid';
import { readStreamTotals } from '../../lib/stream/commit';
import { DLQ_HEADERS, runConsumeLease } from '../../lib/stream/consumer';
import { openTestStack } from '../support/env';
import type { TestStack } from '../support/env';

const JULY_8_9H = Date.UTC(2022, 6, 8, 9);
let n = 0;
function ev(over: Partial<TrackingMessageV1> = {}): TrackingMessageV1 {
  n += 1;
  return {
    v: 1, event_id: makeTimeUuid(JULY_8_9H + n, n % 10_000, n, '0a0b0c0d0e0f'), ts: 'x', job_id: 98,
    custom_track: 'click', bid: 1, campaign_id: 1, group_id: 2, publisher_id: 3, ...over,
  };
}

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close().catch(() => undefined);
});

async function fresh(label: string, partitions = 1): Promise<TestStack> {
  const s = await openTestStack(label);
  stacks.push(s);
  const admin = s.deps.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: s.config.kafka.topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  return s;
}

/** One gzip'd send: a single record batch, fetched and chunked as one. */
async function produce(s: TestStack, messages: Message[]): Promise<void> {
  const producer = s.deps.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: s.config.kafka.topic, acks: -1, compression: CompressionTypes.GZIP, messages });
  } finally {
    await producer.disconnect();
  }
}

const msg = (m: TrackingMessageV1, headers?: Message['headers']): Message => ({ key: String(m.job_id), value: encodeMessage(m), headers });

async function readDlq(s: TestStack, count: number): Promise<KafkaMessage[]> {
  const got: KafkaMessage[] = [];
  const c = s.deps.kafka.consumer({ groupId: `${s.config.kafka.consumerGroup}-dlq` });
  await c.connect();
  try {
    await c.subscribe({ topic: s.config.kafka.deadLetterTopic, fromBeginning: true });
    await c.run({ eachMessage: async ({ message }) => void got.push(message) });
    const end = Date.now() + 60_000;
    while (got.length < count && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500)); // more than expected would show here
  } finally {
    await c.disconnect();
  }
  return got;
}

async function warehouse(s: TestStack): Promise<string[]> {
  const [r] = await s.deps.mysql.query<RowDataPacket[]>(
    'SELECT job_id, hours, clicks, CAST(bid_sum AS CHAR) bid_sum, CAST(bid_set AS CHAR) bid_set FROM events ORDER BY job_id, hours',
  );
  return r.map((x) => Object.values(x).join('|'));
}

const totals = (s: TestStack) => readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
const lease = (s: TestStack, leaseMs = 25_000) => runConsumeLease(s.deps, { leaseMs, stopWhenCaughtUp: true });

void test('case 6: 3,000 poison messages with 400-byte values in one chunk reach the DLQ; the partition moves on', { timeout: 180_000 }, async () => {
  const s = await fresh('dlqflood');
  const poison = Array.from({ length: 3000 }, (_, i) => ({
    key: '98',
    value: JSON.stringify({ v: 1, event_id: `not-a-uuid-${i}`, filler: crypto.randomBytes(200).toString('hex') }),
  }));
  await produce(s, [msg(ev({ bid: 2 })), ...poison, msg(ev({ bid: 3 }))]);
  const r = await lease(s);
  assert.equal(r.endReason, 'caught-up');
  const t = await totals(s);
  assert.deepEqual([t.consumed, t.counted, t.deadLettered], [3002, 2, 3000]);
  assert.deepEqual(await warehouse(s), ['98|9|2|5.000000|2.50']);
  const dlq = await readDlq(s, 3000);
  assert.equal(dlq.length, 3000);
  const offsets = new Set(dlq.map((m) => m.headers?.[DLQ_HEADERS.offset]?.toString()));
  assert.equal(offsets.size, 3000);
  // Offset k (1..3000) is poison k-1: every value arrives whole.
  assert.ok(dlq.every((m) => m.value?.toString() === poison[Number(m.headers?.[DLQ_HEADERS.offset]?.toString()) - 1]!.value));
});

void test('case 7: an over-long publish batch name (value or header) is dead-lettered; 64 characters still count', { timeout: 120_000 }, async () => {
  const s = await fresh('longbatch');
  const ok64 = ev({ bid: 1 });
  ok64.pub = `${'b'.repeat(64)}:1`;
  const long = ev({ bid: 5 });
  long.pub = `${'b'.repeat(65)}:1`;
  const headerLong = ev({ bid: 7 });
  await produce(s, [
    msg(ok64),
    msg(long),
    msg(headerLong, { 'trackflow-batch': 'h'.repeat(300), 'trackflow-seq': '4' }),
    msg(ev({ bid: 1 })),
  ]);
  const r = await lease(s);
  assert.equal(r.endReason, 'caught-up');
  const t = await totals(s);
  assert.deepEqual([t.consumed, t.counted, t.deadLettered], [4, 2, 2]);
  assert.deepEqual(await warehouse(s), ['98|9|2|2.000000|1.00']);
  const dlq = await readDlq(s, 2);
  assert.deepEqual(dlq.map((m) => m.headers?.[DLQ_HEADERS.offset]?.toString()).sort(), ['1', '2']);
  assert.ok(dlq.every((m) => /longer than 64 characters/.test(m.headers?.[DLQ_HEADERS.errorMessage]?.toString() ?? '')));
});

void test('case 4: a group of 5,000 clicks at 999,999,999,999.99 commits its exact sum', { timeout: 120_000 }, async () => {
  const s = await fresh('bigbids');
  await produce(s, Array.from({ length: 5000 }, () => msg(ev({ bid: 999_999_999_999.99 }))));
  const r = await lease(s);
  assert.equal(r.endReason, 'caught-up');
  // 5000 * 999,999,999,999.99 = 4,999,999,999,999,950 (by hand); twice that after a second chunk.
  assert.deepEqual(await warehouse(s), ['98|9|5000|4999999999999950.000000|999999999999.99']);
  await produce(s, Array.from({ length: 5000 }, () => msg(ev({ bid: 999_999_999_999.99 }))));
  await lease(s);
  assert.deepEqual(await warehouse(s), ['98|9|10000|9999999999999900.000000|999999999999.99']);
});

void test('a data error MySQL raises despite the checks is isolated by splitting the chunk: one message dead-lettered', { timeout: 120_000 }, async () => {
  const s = await fresh('dataerror');
  // Narrow a column behind the consumer's back, so a message that passes validation still fails the insert.
  const admin = createMysqlAdminPool(s.config.mysql);
  try {
    await admin.query(`ALTER TABLE \`${s.config.mysql.database}\`.publish_watermarks MODIFY ingest_batch VARCHAR(8) NOT NULL`);
  } finally {
    await admin.end();
  }
  const messages = Array.from({ length: 40 }, (_, i) => {
    const m = ev({ bid: 1 });
    m.pub = `${i === 17 ? 'toolongforit' : 'b'}:${i}`;
    return msg(m);
  });
  await produce(s, messages);
  const r = await lease(s);
  assert.equal(r.endReason, 'caught-up');
  const t = await totals(s);
  assert.deepEqual([t.consumed, t.counted, t.deadLettered], [40, 39, 1]);
  const dlq = await readDlq(s, 1);
  assert.deepEqual(dlq.map((m) => m.headers?.[DLQ_HEADERS.offset]?.toString()), ['17']);
  assert.match(dlq[0]!.headers?.[DLQ_HEADERS.errorMessage]?.toString() ?? '', /ER_DATA_TOO_LONG|Data too long/);
});

void test('a poison message too large for the DLQ is dead-lettered truncated, with its original length', { timeout: 120_000 }, async () => {
  const s = await openTestStack('dlqhuge');
  stacks.push(s);
  const admin = s.deps.kafka.admin();
  await admin.connect();
  // The source topic takes 3 MiB batches; the DLQ is created with the broker's default (1 MiB).
  await admin.createTopics({
    topics: [{ topic: s.config.kafka.topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '3145728' }] }],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const huge = crypto.randomBytes(1_500_000).toString('base64');
  await produce(s, [msg(ev({ bid: 2 })), { key: '98', value: huge }, msg(ev({ bid: 2 }))]);
  const r = await lease(s);
  assert.equal(r.endReason, 'caught-up');
  const t = await totals(s);
  assert.deepEqual([t.consumed, t.counted, t.deadLettered], [3, 2, 1]);
  const [m] = await readDlq(s, 1);
  assert.equal(m!.headers?.[DLQ_HEADERS.truncated]?.toString(), String(huge.length));
  assert.equal(m!.headers?.[DLQ_HEADERS.offset]?.toString(), '1');
  assert.ok(m!.value!.length < 1_048_576 && huge.startsWith(m!.value!.toString()));
});

void test('a partition that does not move while it has lag is flagged: gauge, heartbeat status; then ok again', { timeout: 120_000 }, async () => {
  const s = await fresh('stall');
  await produce(s, [msg(ev({ bid: 1 }))]);
  await lease(s);
  await produce(s, [msg(ev({ bid: 1 }))]);
  // Hold the partition's offset row: the next batch transaction waits on its lock.
  const blocker = await s.deps.mysql.getConnection();
  await blocker.beginTransaction();
  await blocker.query('SELECT next_offset FROM consumer_offsets FOR UPDATE');
  const beats: Array<{ status: string; stalled: Array<{ partition: number }> }> = [];
  let gaugeWhileBlocked = '';
  const running = runConsumeLease(s.deps, {
    leaseMs: 9000, stallMs: 1500, heartbeatMs: 300, pollMs: 100,
    heartbeat: (d) => beats.push(d as (typeof beats)[number]),
  });
  const end = Date.now() + 6000;
  while (Date.now() < end && !beats.some((b) => b.stalled.length)) await new Promise((r) => setTimeout(r, 100));
  gaugeWhileBlocked = await s.deps.metrics.render();
  await blocker.rollback();
  blocker.release();
  const summary = await running;
  const flagged = beats.find((b) => b.stalled.length);
  assert.ok(flagged, 'a heartbeat reported the stall');
  assert.match(flagged.status, /^partition 0 stalled for \d+ s at offset 1 with lag 1$/);
  assert.match(gaugeWhileBlocked, /trackflow_stream_partition_stalled\{partition="0"\} 1/);
  assert.equal(beats[beats.length - 1]!.status, 'ok');
  assert.equal(summary.status, 'ok');
  assert.match(await s.deps.metrics.render(), /trackflow_stream_partition_stalled\{partition="0"\} 0/);
  assert.deepEqual([(await totals(s)).counted], [2]);
});
