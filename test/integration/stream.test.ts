import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { createConsumeActivities } from '../../activities/consume';
import { exportEvents } from '../../scripts/cli/export';
import type { TrackingMessageV1 } from '../../lib/domain/message';
import { encodeMessage, encodeMessageV2, messageKey } from '../../lib/domain/message';
import { makeTimeUuid } from '../../lib/domain/timeuuid';
import { classify } from '../../lib/domain/transform';
import type { CountableEvent } from '../../lib/domain/transform';
import { commitBatch, readStoredOffsets, readStreamTotals } from '../../lib/stream/commit';
import { DLQ_HEADERS, runConsumeLease } from '../../lib/stream/consumer';
import { JobDirectory } from '../../lib/stream/jobCompanyLookup';
import { openTestStack } from '../support/env';
import type { TestStack } from '../support/env';

const H = 3_600_000;
const JULY_8 = Date.UTC(2022, 6, 8);
let seq = 0;
/** A distinct time UUID at JULY_8 + hour:minute (UTC). */
function uuidAt(hour: number, minute: number): string {
  seq += 1;
  return makeTimeUuid(JULY_8 + hour * H + minute * 60_000, seq % 10_000, seq, '0a0b0c0d0e0f');
}

function ev(over: Partial<TrackingMessageV1> & { at?: [number, number] }): TrackingMessageV1 {
  const { at = [9, 0], ...rest } = over;
  const id = uuidAt(at[0], at[1]);
  return {
    v: 1,
    event_id: id,
    ts: '2022-07-08 16:00:00.000', // deliberately not the event time: the UUID is
    job_id: 98,
    custom_track: 'click',
    bid: null,
    campaign_id: null,
    group_id: null,
    publisher_id: null,
    ...rest,
  };
}

async function createTopic(stack: TestStack): Promise<void> {
  const admin = stack.deps.kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: stack.config.kafka.topic, numPartitions: 6 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function produce(stack: TestStack, messages: Array<TrackingMessageV1 | { key: string | null; value: string }>) {
  const producer = stack.deps.kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: stack.config.kafka.topic,
      acks: -1,
      messages: messages.map((m) =>
        'v' in m ? { key: messageKey(m), value: encodeMessage(m) } : { key: m.key, value: m.value },
      ),
    });
  } finally {
    await producer.disconnect();
  }
}

async function addJob(stack: TestStack, id: number, companyId: number | null): Promise<void> {
  await stack.deps.mysql.query('INSERT INTO job (id, company_id, updated_at) VALUES (?, ?, UTC_TIMESTAMP(3))', [id, companyId]);
}

async function rows(stack: TestStack): Promise<unknown[][]> {
  const [r] = await stack.deps.mysql.query<RowDataPacket[]>(
    `SELECT job_id, dates, hours, publisher_id, campaign_id, group_id, bid_set, clicks, spend_hour, conversion,
       qualified_application, disqualified_application, company_id, sources
     FROM events ORDER BY job_id, dates, hours, publisher_id, campaign_id, group_id`,
  );
  return r.map((x) => Object.values(x).map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v)));
}

function totals(stack: TestStack) {
  return readStreamTotals(stack.deps.mysql, stack.config.kafka.consumerGroup, stack.config.kafka.topic);
}

function lease(stack: TestStack, extra: Partial<Parameters<typeof runConsumeLease>[1]> = {}) {
  return runConsumeLease(stack.deps, { leaseMs: 60_000, stopWhenCaughtUp: true, ...extra });
}

async function waitFor(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

void describe('stream consumer against Kafka and MariaDB', { timeout: 240_000 }, () => {
  let stack: TestStack;
  const stacks: TestStack[] = [];
  async function fresh(label: string): Promise<TestStack> {
    stack = await openTestStack(label);
    stacks.push(stack);
    await createTopic(stack);
    return stack;
  }
  before(() => undefined);
  after(async () => {
    for (const s of stacks) await s.close().catch(() => undefined);
  });

  void test('a known set: late events, unknown job, nulls, other actions, no job -> exact rows', async () => {
    const s = await fresh('streamknown');
    await addJob(s, 98, 1);
    await addJob(s, 188, 7);
    await produce(s, [
      ev({ at: [9, 5], custom_track: 'click', bid: 2.0, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 10], custom_track: 'click', bid: 1.25, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 20], custom_track: 'conversion', publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 30], custom_track: 'qualified', bid: 3, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [10, 15], custom_track: 'click', bid: 0.5 }),
      ev({ at: [23, 30], job_id: 188, custom_track: 'unqualified', publisher_id: 2, campaign_id: 5, group_id: 3 }),
      ev({ at: [12, 0], job_id: 500, custom_track: 'click', bid: 0.1, publisher_id: 3, campaign_id: 6, group_id: 0 }),
      ev({ at: [9, 1], job_id: null, custom_track: 'click', bid: 9 }),
      ev({ at: [9, 2], custom_track: 'alive', bid: 9, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 3], custom_track: null }),
      ev({ at: [9, 4], job_id: null, custom_track: 'redirect' }),
    ]);
    const { consumeLease } = createConsumeActivities(s.deps);
    const first = await consumeLease({ leaseMs: 60_000, stopWhenCaughtUp: true });
    assert.equal(first.endReason, 'caught-up');
    assert.equal(first.lag, 0);
    assert.deepEqual(await rows(s), [
      [98, '2022-07-08', 9, 1, 4, 0, 1.63, 2, 3.25, 1, 1, 0, 1, 'Cassandra'],
      [98, '2022-07-08', 10, 0, 0, 0, 0.5, 1, 0.5, 0, 0, 0, 1, 'Cassandra'],
      [188, '2022-07-08', 23, 2, 5, 3, null, 0, 0, 0, 0, 1, 7, 'Cassandra'],
      [500, '2022-07-08', 12, 3, 6, 0, 0.1, 1, 0.1, 0, 0, 0, null, 'Cassandra'],
    ]);

    // Late events for hours already written add to their own rows.
    await produce(s, [
      ev({ at: [9, 59], custom_track: 'click', bid: 0.5, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 40], custom_track: 'unqualified', publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [12, 40], job_id: 500, custom_track: 'click', bid: 0.2, publisher_id: 3, campaign_id: 6, group_id: 0 }),
    ]);
    const second = await consumeLease({ leaseMs: 60_000, stopWhenCaughtUp: true });
    assert.equal(second.endReason, 'caught-up');
    assert.deepEqual(await rows(s), [
      [98, '2022-07-08', 9, 1, 4, 0, 1.25, 3, 3.75, 1, 1, 1, 1, 'Cassandra'],
      [98, '2022-07-08', 10, 0, 0, 0, 0.5, 1, 0.5, 0, 0, 0, 1, 'Cassandra'],
      [188, '2022-07-08', 23, 2, 5, 3, null, 0, 0, 0, 0, 1, 7, 'Cassandra'],
      [500, '2022-07-08', 12, 3, 6, 0, 0.15, 2, 0.3, 0, 0, 0, null, 'Cassandra'],
    ]);
    const t = await totals(s);
    assert.deepEqual(
      { consumed: t.consumed, counted: t.counted, filtered: t.filtered, unattributed: t.unattributed, deadLettered: t.deadLettered, duplicates: t.duplicates, unknownJob: t.unknownJob },
      { consumed: 14, counted: 10, filtered: 3, unattributed: 1, deadLettered: 0, duplicates: 0, unknownJob: 2 },
    );

    let csv = '';
    await exportEvents(s.deps.mysql, 'csv', (chunk) => (csv += chunk));
    assert.equal(
      csv,
      [
        'job_id,dates,hours,publisher_id,campaign_id,group_id,bid_set,clicks,spend_hour,conversion,qualified_application,disqualified_application,company_id,sources',
        '98,2022-07-08,9,1,4,0,1.25,3,3.75,1,1,1,1,Cassandra',
        '98,2022-07-08,10,0,0,0,0.50,1,0.50,0,0,0,1,Cassandra',
        '188,2022-07-08,23,2,5,3,,0,0.00,0,0,1,7,Cassandra',
        '500,2022-07-08,12,3,6,0,0.15,2,0.30,0,0,0,,Cassandra',
        '',
      ].join('\n'),
    );
  });

  void test('a topic mixing v1 and v2 values, gzip and zstd batches, gives the same rows; a v2 copy of a v1 message is a redelivery', async () => {
    const s = await fresh('streammixed');
    await addJob(s, 98, 1);
    await addJob(s, 188, 7);
    const known = [
      ev({ at: [9, 5], custom_track: 'click', bid: 2.0, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 10], custom_track: 'click', bid: 1.25, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 20], custom_track: 'conversion', publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 30], custom_track: 'qualified', bid: 3, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [10, 15], custom_track: 'click', bid: 0.5 }),
      ev({ at: [23, 30], job_id: 188, custom_track: 'unqualified', publisher_id: 2, campaign_id: 5, group_id: 3 }),
      ev({ at: [12, 0], job_id: 500, custom_track: 'click', bid: 0.1, publisher_id: 3, campaign_id: 6, group_id: 0 }),
      ev({ at: [9, 1], job_id: null, custom_track: 'click', bid: 9 }),
      ev({ at: [9, 2], custom_track: 'alive', bid: 9, publisher_id: 1, campaign_id: 4, group_id: 0 }),
      ev({ at: [9, 3], custom_track: null }),
      ev({ at: [9, 4], job_id: null, custom_track: 'redirect' }),
    ].map((m, i) => ({ ...m, pub: `mixedbatch:${i}` }));
    const producer = s.deps.kafka.producer();
    await producer.connect();
    const send = (compression: CompressionTypes, messages: Array<{ key: string | null; value: string }>) =>
      producer.send({ topic: s.config.kafka.topic, acks: -1, compression, messages });
    try {
      // Alternating versions in each batch, one batch gzip'd and one zstd'd: what a topic holds mid-upgrade.
      const encoded = known.map((m, i) => ({ key: messageKey(m), value: i % 2 ? encodeMessageV2(m) : encodeMessage(m) }));
      await send(CompressionTypes.GZIP, encoded.slice(0, 6));
      await send(CompressionTypes.ZSTD, encoded.slice(6));
      // A publisher re-sends message 0 (a v1 click) after an upgrade: same position, now v2.
      await send(CompressionTypes.ZSTD, [{ key: messageKey(known[0]!), value: encodeMessageV2(known[0]!) }]);
    } finally {
      await producer.disconnect();
    }
    const summary = await lease(s);
    assert.equal(summary.endReason, 'caught-up');
    // The same hand-worked rows as the all-v1 known set above.
    assert.deepEqual(await rows(s), [
      [98, '2022-07-08', 9, 1, 4, 0, 1.63, 2, 3.25, 1, 1, 0, 1, 'Cassandra'],
      [98, '2022-07-08', 10, 0, 0, 0, 0.5, 1, 0.5, 0, 0, 0, 1, 'Cassandra'],
      [188, '2022-07-08', 23, 2, 5, 3, null, 0, 0, 0, 0, 1, 7, 'Cassandra'],
      [500, '2022-07-08', 12, 3, 6, 0, 0.1, 1, 0.1, 0, 0, 0, null, 'Cassandra'],
    ]);
    const t = await totals(s);
    assert.deepEqual(
      { consumed: t.consumed, counted: t.counted, filtered: t.filtered, unattributed: t.unattributed, duplicates: t.duplicates, redelivered: t.redelivered },
      // All 12 were consumed; the copy is recognised by its position (the watermark) as a redelivery.
      { consumed: 12, counted: 7, filtered: 3, unattributed: 1, duplicates: 0, redelivered: 1 },
    );
  });

  void test('a consumer restarted mid-stream (two leases) leaves the totals unchanged', async () => {
    const s = await fresh('streamrestart');
    const msgs: TrackingMessageV1[] = [];
    for (let job = 101; job <= 106; job++) {
      for (let i = 0; i < 100; i++) msgs.push(ev({ job_id: job, at: [9, i % 60], custom_track: 'click', bid: 0.25 }));
      for (let i = 0; i < 50; i++) msgs.push(ev({ job_id: job, at: [9, i % 60], custom_track: 'superpixel', bid: 0.25 }));
    }
    await produce(s, msgs);
    const abort = new AbortController();
    const firstLease = lease(s, { chunkSize: 20, signal: abort.signal });
    await waitFor(async () => (await totals(s)).consumed >= 100);
    abort.abort();
    const first = await firstLease;
    assert.equal(first.endReason, 'cancelled');
    const mid = await totals(s);
    assert.ok(mid.consumed < 900, `first lease should stop mid-stream, consumed ${mid.consumed}`);
    const second = await lease(s, { chunkSize: 20 });
    assert.equal(second.endReason, 'caught-up');
    assert.deepEqual(await rows(s), [
      [101, '2022-07-08', 9, 0, 0, 0, 0.25, 100, 25, 0, 0, 0, null, 'Cassandra'],
      [102, '2022-07-08', 9, 0, 0, 0, 0.25, 100, 25, 0, 0, 0, null, 'Cassandra'],
      [103, '2022-07-08', 9, 0, 0, 0, 0.25, 100, 25, 0, 0, 0, null, 'Cassandra'],
      [104, '2022-07-08', 9, 0, 0, 0, 0.25, 100, 25, 0, 0, 0, null, 'Cassandra'],
      [105, '2022-07-08', 9, 0, 0, 0, 0.25, 100, 25, 0, 0, 0, null, 'Cassandra'],
      [106, '2022-07-08', 9, 0, 0, 0, 0.25, 100, 25, 0, 0, 0, null, 'Cassandra'],
    ]);
    const t = await totals(s);
    assert.deepEqual([t.consumed, t.counted, t.filtered, t.duplicates], [900, 600, 300, 0]);
  });

  void test('two consumers in one group with a rebalance -> exact totals', async () => {
    const s = await fresh('streamrebal');
    // The producer keeps sending for ~6 s, so the second consumer joins while the first is mid-stream.
    const producing = (async () => {
      for (let job = 1001; job <= 1060; job++) {
        const msgs: TrackingMessageV1[] = [];
        for (let i = 0; i < 50; i++) msgs.push(ev({ job_id: job, at: [9, i], custom_track: 'click', bid: 1.0 }));
        for (let i = 0; i < 25; i++) msgs.push(ev({ job_id: job, at: [9, i], custom_track: 'conversion' }));
        for (let i = 0; i < 25; i++) msgs.push(ev({ job_id: job, at: [9, i], custom_track: 'alive' }));
        await produce(s, msgs);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Caught-up is not a stopping rule here (the lag touches 0 between sends): stop both once all is in.
    const stop = new AbortController();
    const opts = { chunkSize: 25, leaseMs: 120_000, stopWhenCaughtUp: false, signal: stop.signal };
    const a = lease(s, opts);
    await waitFor(async () => (await totals(s)).consumed > 0);
    const b = lease(s, opts);
    await producing;
    await waitFor(async () => (await totals(s)).consumed >= 6000, 60_000);
    stop.abort();
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.endReason, 'cancelled');
    assert.equal(rb.endReason, 'cancelled');
    assert.ok(ra.counts.consumed > 0 && rb.counts.consumed > 0, 'both consumers did work');
    const [agg] = await s.deps.mysql.query<RowDataPacket[]>(
      `SELECT COUNT(*) n, SUM(clicks) clicks, SUM(conversion) conv, MIN(clicks) minc, MAX(clicks) maxc,
         SUM(spend_hour) spend, MIN(bid_set) minb, MAX(bid_set) maxb FROM events`,
    );
    assert.deepEqual(
      Object.values(agg[0] ?? {}).map(Number),
      [60, 3000, 1500, 50, 50, 3000, 1, 1],
    );
    const t = await totals(s);
    assert.deepEqual([t.consumed, t.counted, t.filtered, t.duplicates], [6000, 4500, 1500, 0]);
    const offsets = await readStoredOffsets(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
    assert.equal([...offsets.values()].reduce((x, y) => x + Number(y), 0), 6000);
  });

  void test('poison messages go to the DLQ with headers; everything else exact; offsets advance', async () => {
    const s = await fresh('streampoison');
    const good = ev({ job_id: 98, at: [9, 0], custom_track: 'click', bid: 1.5 });
    await produce(s, [
      good,
      { key: '98', value: 'not json{' },
      { key: '98', value: JSON.stringify({ ...ev({}), job_id: '98' }) },
      { key: '98', value: JSON.stringify({ ...ev({}), event_id: 'not-a-uuid' }) },
      { key: '98', value: JSON.stringify({ ...ev({}), job_id: 98.5 }) },
      ev({ job_id: 98, at: [9, 30], custom_track: 'click', bid: 0.5 }),
    ]);
    const r = await lease(s);
    assert.equal(r.endReason, 'caught-up');
    assert.equal(r.lag, 0);
    assert.deepEqual(await rows(s), [[98, '2022-07-08', 9, 0, 0, 0, 1, 2, 2, 0, 0, 0, null, 'Cassandra']]);
    const t = await totals(s);
    assert.deepEqual([t.consumed, t.counted, t.deadLettered], [6, 2, 4]);
    const offsets = await readStoredOffsets(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
    assert.equal([...offsets.values()].reduce((x, y) => x + Number(y), 0), 6);

    const dlq: KafkaMessage[] = [];
    const c = s.deps.kafka.consumer({ groupId: `${s.config.kafka.consumerGroup}-dlq-reader` });
    await c.connect();
    await c.subscribe({ topic: s.config.kafka.deadLetterTopic, fromBeginning: true });
    await c.run({ eachMessage: async ({ message }) => void dlq.push(message) });
    await waitFor(async () => dlq.length >= 4);
    await c.disconnect();
    const h = (m: KafkaMessage, k: string) => m.headers?.[k]?.toString();
    const byOffset = dlq.sort((x, y) => Number(h(x, DLQ_HEADERS.offset)) - Number(h(y, DLQ_HEADERS.offset)));
    assert.deepEqual(
      byOffset.map((m) => [h(m, DLQ_HEADERS.topic), h(m, DLQ_HEADERS.offset), h(m, DLQ_HEADERS.errorClass), m.value?.toString().slice(0, 9)]),
      [
        [s.config.kafka.topic, '1', 'PoisonMessageError', 'not json{'],
        [s.config.kafka.topic, '2', 'PoisonMessageError', '{"v":1,"e'],
        [s.config.kafka.topic, '3', 'PoisonMessageError', '{"v":1,"e'],
        [s.config.kafka.topic, '4', 'PoisonMessageError', '{"v":1,"e'],
      ],
    );
    assert.match(h(byOffset[0] as KafkaMessage, DLQ_HEADERS.errorMessage) ?? '', /not valid JSON/);
    assert.match(h(byOffset[2] as KafkaMessage, DLQ_HEADERS.errorMessage) ?? '', /event_id/);
    assert.ok(byOffset.every((m) => h(m, DLQ_HEADERS.partition) === h(byOffset[0] as KafkaMessage, DLQ_HEADERS.partition)));
  });

  void test('a zombie attempt whose offset compare-and-set fails is refused and counts nothing', async () => {
    const s = await fresh('streamzombie');
    const m1 = ev({ job_id: 98, at: [9, 0], custom_track: 'click', bid: 2 });
    const m2 = ev({ job_id: 98, at: [9, 1], custom_track: 'click', bid: 2 });
    await produce(s, [m1, m2]);
    await lease(s);
    const offsets = await readStoredOffsets(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
    const [[partition, next]] = [...offsets.entries()] as [[number, string]];
    assert.equal(next, '2');
    const before = await rows(s);
    // The zombie still believes the partition is at offset 0 and replays the same two events.
    const countable = [m1, m2].map((m, i) => ({ event: (classify(m) as { event: CountableEvent }).event, offset: String(i) }));
    const result = await commitBatch(s.deps.mysql, new JobDirectory(s.deps.mysql), {
      group: s.config.kafka.consumerGroup,
      topic: s.config.kafka.topic,
      partition,
      expectedOffset: '0',
      earliestOffset: '0',
      nextOffset: '2',
      countable,
      counts: { consumed: 2, filtered: 0, unattributed: 0, deadLettered: 0 },
      attemptToken: 'zombie',
    });
    assert.deepEqual(result, { status: 'fenced', storedOffset: '2' });
    assert.deepEqual(await rows(s), before);
    assert.deepEqual(await rows(s), [[98, '2022-07-08', 9, 0, 0, 0, 2, 2, 4, 0, 0, 0, null, 'Cassandra']]);
    const t = await totals(s);
    assert.deepEqual([t.consumed, t.counted, t.batches], [2, 2, 1]);
  });

  void test('the same event produced twice is counted once', async () => {
    const s = await fresh('streamdup');
    const once = ev({ job_id: 98, at: [9, 0], custom_track: 'click', bid: 2 });
    const twice = ev({ job_id: 98, at: [9, 1], custom_track: 'click', bid: 3 });
    await produce(s, [once, twice]);
    await lease(s);
    await produce(s, [twice]); // the publisher re-sends after a crash
    await lease(s);
    assert.deepEqual(await rows(s), [[98, '2022-07-08', 9, 0, 0, 0, 2.5, 2, 5, 0, 0, 0, null, 'Cassandra']]);
    const t = await totals(s);
    assert.deepEqual([t.consumed, t.counted, t.duplicates], [3, 2, 1]);
    // ...and a duplicate inside one batch is caught as well.
    await produce(s, [once, once]);
    await lease(s);
    assert.deepEqual(await rows(s), [[98, '2022-07-08', 9, 0, 0, 0, 2.5, 2, 5, 0, 0, 0, null, 'Cassandra']]);
    const t2 = await totals(s);
    assert.deepEqual([t2.consumed, t2.counted, t2.duplicates], [5, 2, 3]);
  });

  void test('a job loaded after its events were written gets its company_id filled', async () => {
    const s = await fresh('streamlatejob');
    await produce(s, [ev({ job_id: 700, at: [9, 0], custom_track: 'click', bid: 1 })]);
    await lease(s, { unknownJobTtlMs: 0 });
    assert.deepEqual(await rows(s), [[700, '2022-07-08', 9, 0, 0, 0, 1, 1, 1, 0, 0, 0, null, 'Cassandra']]);
    await addJob(s, 700, 70);
    await produce(s, [ev({ job_id: 700, at: [11, 0], custom_track: 'conversion' })]);
    await lease(s, { unknownJobTtlMs: 0 });
    assert.deepEqual(await rows(s), [
      [700, '2022-07-08', 9, 0, 0, 0, 1, 1, 1, 0, 0, 0, 70, 'Cassandra'],
      [700, '2022-07-08', 11, 0, 0, 0, null, 0, 0, 1, 0, 0, 70, 'Cassandra'],
    ]);
    const t = await totals(s);
    assert.deepEqual([t.counted, t.unknownJob], [2, 1]);
  });
});
