import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { writeDataset } from '../../lib/domain/generator';
import { ingestFileCore } from '../../lib/ingest/ingest';
import { publishPendingCore } from '../../lib/publish/publisher';
import { crashAt, SimulatedCrash } from '../support/faultHooks';
import type { PublishDeps } from '../../lib/publish/publisher';
import { runConsumeLease } from '../../lib/stream/consumer';
import { readStreamTotals } from '../../lib/stream/commit';
import { openTestStack, randomSuffix } from '../support/env';
import type { TestStack } from '../support/env';

const SAMPLE = path.join(__dirname, '..', 'fixtures', 'tracking_sample.csv');

let tmp: string;
const stacks: TestStack[] = [];

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-publish-'));
});
after(async () => {
  for (const s of stacks) await s.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function stack(label: string): Promise<TestStack> {
  const s = await openTestStack(label);
  stacks.push(s);
  return s;
}

function publishDeps(s: TestStack): PublishDeps {
  return {
    cassandra: s.deps.cassandra,
    kafka: s.deps.kafka,
    keyspace: s.config.cassandra.keyspace,
    topic: s.config.kafka.topic,
    partitions: s.config.kafka.partitions,
  };
}

async function ingest(s: TestStack, file: string) {
  return ingestFileCore({ cassandra: s.deps.cassandra, keyspace: s.config.cassandra.keyspace }, { path: file });
}

/** Messages in the topic = sum of high watermarks (no transactions, so no control records). */
async function topicSize(s: TestStack): Promise<number> {
  const admin = s.deps.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(s.config.kafka.topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads the whole topic with a throwaway consumer group. */
async function readTopic(s: TestStack, expected: number): Promise<KafkaMessage[]> {
  const consumer = s.deps.kafka.consumer({ groupId: `trackflow-t-read-${randomSuffix()}` });
  const out: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: s.config.kafka.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${out.length} of ${expected} messages in 60s`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          out.push(message);
          if (out.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

test('the ingested sample is published once per lake event, keyed by job_id, in the v2 contract, zstd-compressed', async () => {
  const s = await stack('publish');
  const ingested = await ingest(s, SAMPLE);
  assert.equal(ingested.written, 57);

  const first = await publishPendingCore({ ...publishDeps(s), compression: 'zstd', messageVersion: 2 });
  assert.equal(first.published, 57);
  assert.equal(first.quarantined, 0);
  assert.equal(await topicSize(s), 57);

  const messages = await readTopic(s, 57);
  const byId = new Map(messages.map((m) => [(JSON.parse(String(m.value)) as unknown[])[1] as string, m]));
  assert.equal(byId.size, 57, 'every lake event exactly once');

  // Line 9 of the sample, read off the CSV by hand, in the v2 element order (no ts: the UUID carries the time).
  const click = byId.get('26eb3150-0d61-11ed-9fd0-70c372b40ff7');
  assert.ok(click);
  assert.equal(String(click.key), '187');
  assert.deepEqual(JSON.parse(String(click.value)), [2, '26eb3150-0d61-11ed-9fd0-70c372b40ff7', 187, 'click', 1, 48, 34, 1, ingested.ingestBatch, 9]);
  // Line 7: empty custom_track and group_id stay null on the wire.
  const view = byId.get('f8a490d0-0c8d-11ed-b4ec-79f84cfb31c1');
  assert.ok(view);
  assert.equal(String(view.key), '1527');
  assert.deepEqual(JSON.parse(String(view.value)), [2, 'f8a490d0-0c8d-11ed-b4ec-79f84cfb31c1', 1527, null, 0, 222, null, 1, ingested.ingestBatch, 7]);
  // Events without a job have no key; their partition is a pure function of the event id.
  const unkeyed = messages.filter((m) => m.key === null);
  assert.equal(unkeyed.length, 30);

  // Publishing again sends nothing.
  const again = await publishPendingCore(publishDeps(s));
  assert.equal(again.published, 0);
  assert.equal(await topicSize(s), 57);

  // A second export: only its own new events are sent.
  const gen = await writeDataset(path.join(tmp, 'second'), { events: 500, seed: 11 });
  const second = await ingest(s, gen.trackingFile);
  const third = await publishPendingCore(publishDeps(s));
  assert.equal(third.published, second.written);
  assert.deepEqual(third.ingestBatches, [second.ingestBatch]);
  assert.equal(await topicSize(s), 57 + second.written);
});

test('with TRACKFLOW_KAFKA_MESSAGE_VERSION=1 and gzip, the sample is published in the v1 contract, as before', async () => {
  const s = await stack('publishv1');
  const ingested = await ingest(s, SAMPLE);
  const first = await publishPendingCore({ ...publishDeps(s), compression: 'gzip', messageVersion: 1 });
  assert.equal(first.published, 57);
  const messages = await readTopic(s, 57);
  const byId = new Map(messages.map((m) => [JSON.parse(String(m.value)).event_id as string, m]));
  assert.equal(byId.size, 57, 'every lake event exactly once');
  // Line 9 of the sample, read off the CSV by hand; ts from the UUID's time (checked with Python's uuid module).
  assert.deepEqual(JSON.parse(String(byId.get('26eb3150-0d61-11ed-9fd0-70c372b40ff7')?.value)), {
    v: 1,
    event_id: '26eb3150-0d61-11ed-9fd0-70c372b40ff7',
    ts: '2022-07-27T04:04:03.429Z',
    job_id: 187,
    custom_track: 'click',
    bid: 1,
    campaign_id: 48,
    group_id: 34,
    publisher_id: 1,
    pub: `${ingested.ingestBatch}:9`,
  });
});

test('a crash between Kafka ack and progress record: the retry re-sends one page, the warehouse counts each event once', async () => {
  const gen = await writeDataset(path.join(tmp, 'crash'), { events: 6000, seed: 21 });

  // Reference: the same file through a clean publish and consume, in an isolated stack.
  const clean = await stack('pubclean');
  const cleanIngest = await ingest(clean, gen.trackingFile);
  await publishPendingCore(publishDeps(clean), { pageSize: 1000 });
  await runConsumeLease(clean.deps, { leaseMs: 120_000, stopWhenCaughtUp: true });

  const s = await stack('pubcrash');
  const ingested = await ingest(s, gen.trackingFile);
  assert.equal(ingested.written, cleanIngest.written);
  await assert.rejects(
    publishPendingCore(publishDeps(s), {
      pageSize: 1000,
      fault: crashAt({ stage: 'publish', afterPages: 3 }),
    }),
    SimulatedCrash,
  );
  // Pages 1 and 2 were recorded, page 3 reached Kafka but not the progress row.
  assert.equal(await topicSize(s), 3000);
  const retry = await publishPendingCore(publishDeps(s), { pageSize: 1000 });
  assert.equal(retry.published, ingested.written - 2000);
  assert.equal(await topicSize(s), ingested.written + 1000, 'page 3 is in the topic twice');

  await runConsumeLease(s.deps, { leaseMs: 120_000, stopWhenCaughtUp: true });
  const totals = await readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
  assert.equal(totals.consumed, ingested.written + 1000);
  assert.equal(totals.redelivered, 1000);
  assert.equal(totals.duplicates, 0);
  assert.equal(totals.counted + totals.filtered + totals.unattributed + totals.deadLettered, ingested.written);

  const cleanTotals = await readStreamTotals(clean.deps.mysql, clean.config.kafka.consumerGroup, clean.config.kafka.topic);
  assert.equal(totals.counted, cleanTotals.counted);
  const table = async (t: TestStack) =>
    (await t.deps.mysql.query(
      `SELECT job_id, dates, hours, publisher_id, campaign_id, group_id, bid_set, clicks, spend_hour, conversion,
              qualified_application, disqualified_application FROM events
       ORDER BY job_id, dates, hours, publisher_id, campaign_id, group_id`,
    ))[0];
  const crashed = await table(s);
  assert.ok(Array.isArray(crashed) && crashed.length > 0);
  assert.deepEqual(crashed, await table(clean));
});

test('a publisher whose activity was cancelled sends no further page and records no further position; the next run finishes the batch once', async () => {
  const gen = await writeDataset(path.join(tmp, 'abort'), { events: 6000, seed: 23 });
  const s = await stack('pubabort');
  const ingested = await ingest(s, gen.trackingFile);
  const stop = new AbortController();
  const reason = new Error('TIMED_OUT');
  await assert.rejects(
    publishPendingCore(publishDeps(s), {
      pageSize: 1000,
      signal: stop.signal,
      // Temporal aborts the signal when a heartbeat learns that the attempt timed out; here, after page 2.
      onProgress: (p) => {
        if (p.published >= 2000) stop.abort(reason);
      },
    }),
    (err) => err === reason,
  );
  assert.equal(await topicSize(s), 2000, 'no page was sent after the abort');
  const retry = await publishPendingCore(publishDeps(s), { pageSize: 1000 });
  assert.equal(retry.published, ingested.written - 2000, 'the next run resumed after page 2');
  assert.equal(await topicSize(s), ingested.written, 'no page is in the topic twice');
});
