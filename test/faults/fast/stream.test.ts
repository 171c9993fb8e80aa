import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { generateJobs, generateTracking } from '../../../lib/domain/generator';
import { decodeMessage } from '../../../lib/domain/message';
import { classify, type CountableEvent } from '../../../lib/domain/transform';
import { messageOrigin } from '../../../lib/publish/headers';
import { commitBatch, readStreamTotals, type MessageOrigin } from '../../../lib/stream/commit';
import { DLQ_HEADERS, runConsumeLease } from '../../../lib/stream/consumer';
import { JobDirectory } from '../../../lib/stream/jobCompanyLookup';
import { createKafka } from '../../../lib/clients/kafka';
import {
  assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, openFaultStack, sleep, slowCommits, waitFor, type FaultStack,
} from '../../support/faults';
import { expectedFrom, readCsv } from '../../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('stream');
});
afterEach(async () => {
  await s?.close();
});

/** A generated export and its job file in the stack's directory. */
function dataset(events: number, seed: number, extra: string[] = []): { tracking: string; jobs: string } {
  const gen = generateTracking({ events, seed, badRate: 0.005 });
  const tracking = path.join(s.dir, `tracking-${seed}.csv`);
  const lines = [...gen.lines, ...extra];
  fs.writeFileSync(tracking, Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, Buffer.from('\n')])));
  const jobs = path.join(s.dir, 'job.csv');
  fs.writeFileSync(jobs, [...generateJobs(seed)].join('\n') + '\n');
  return { tracking, jobs };
}

/** Every message of one partition, read with a throwaway consumer group. */
async function readPartition(topic: string, partition: number, count: number): Promise<KafkaMessage[]> {
  const kafka = createKafka(s.config.kafka, 'probe');
  const consumer = kafka.consumer({ groupId: `${s.config.kafka.consumerGroup}-probe` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition: p, message }) => {
        if (p === partition) got.push(message);
      },
    });
    await waitFor(`${count} messages of partition ${partition}`, 60_000, async () => got.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return got.sort((a, b) => Number(a.offset) - Number(b.offset)).slice(0, count);
}

void test('7. two live attempts of one batch (a zombie and its retry): exactly one commits, the other is fenced', async () => {
  const { tracking, jobs } = dataset(4000, 71);
  await loadJobs(s, jobs);
  await ingestAndPublishDirect(s, [tracking]);
  const { topic, consumerGroup: group } = s.config.kafka;
  const admin = s.deps.kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const p = offsets.find((o) => Number(o.high) > 10)!;
  const messages = await readPartition(topic, p.partition, Number(p.high));

  const input = (token: string) => {
    const countable: Array<{ event: CountableEvent; offset: string }> = [];
    const counts = { consumed: messages.length, filtered: 0, unattributed: 0, deadLettered: 0 };
    const origins: MessageOrigin[] = [];
    for (const m of messages) {
      const decoded = decodeMessage(m.value);
      const c = classify(decoded);
      if (c.kind === 'countable') countable.push({ event: c.event, offset: m.offset });
      else counts[c.kind] += 1;
      const o = messageOrigin(decoded, m.headers as Record<string, unknown>);
      if (o) origins.push({ ...o, offset: m.offset, kind: c.kind });
    }
    return {
      group, topic, partition: p.partition, expectedOffset: p.low, earliestOffset: p.low,
      nextOffset: String(Number(p.high)), countable, counts, origins, attemptToken: token,
    };
  };
  // Both attempts start their transactions together: the offset row's lock serialises them.
  const results = await Promise.all([
    commitBatch(s.deps.mysql, new JobDirectory(s.deps.mysql), input('attempt-1')),
    commitBatch(s.deps.mysql, new JobDirectory(s.deps.mysql), input('attempt-2')),
  ]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['committed', 'fenced']);
  // A zombie that wakes up later with its stale position is fenced too.
  const late = await commitBatch(s.deps.mysql, new JobDirectory(s.deps.mysql), input('zombie'));
  assert.equal(late.status, 'fenced');
  const t = await readStreamTotals(s.deps.mysql, group, topic);
  assert.equal(t.consumed, messages.length);
  assert.equal(t.batches, 1);

  await consumeUntilCaughtUp(s);
  await assertExact(s, '7 zombie attempt + retry (offset compare-and-set)', expectedFrom([tracking], jobs));
});

void test('8. a rebalance in the middle of batches with two stream consumers: exact totals', async () => {
  const { tracking, jobs } = dataset(12_000, 81);
  await loadJobs(s, jobs);
  await ingestAndPublishDirect(s, [tracking]);
  const { topic, consumerGroup: group } = s.config.kafka;
  const first = runConsumeLease(
    { ...s.deps, kafka: createKafka(s.config.kafka, 'worker-a'), mysql: slowCommits(s.deps.mysql, 800) },
    { leaseMs: 120_000, stopWhenCaughtUp: true, chunkSize: 200 },
  );
  // The second consumer joins while the first has committed some batches and has others in flight.
  await waitFor('first batches', 60_000, async () => (await readStreamTotals(s.deps.mysql, group, topic)).batches >= 3);
  const second = runConsumeLease(
    { ...s.deps, kafka: createKafka(s.config.kafka, 'worker-b') },
    { leaseMs: 120_000, stopWhenCaughtUp: true, chunkSize: 200 },
  );
  const [a, b] = await Promise.all([first, second]);
  assert.ok(a.counts.batches > 0 && b.counts.batches > 0, `both consumed: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
  // Whatever was left (a consumer may stop as soon as its own partitions are caught up).
  await consumeUntilCaughtUp(s);
  await assertExact(s, '8 rebalance mid-batch, two consumers', expectedFrom([tracking], jobs));
});

void test('9. poison messages among good ones: dead-lettered with their origin and error, everything else exact', async () => {
  // Rows the lake accepts (they are numbers) but the warehouse cannot hold: they become poison messages.
  const template = readCsv(fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'tracking_sample.csv')))[1]!.fields.map(String);
  const poisonRows: string[] = [];
  const poisonIds: string[] = [];
  // A bid of 10^13 no longer gets this far: ingest rejects bids beyond 10^6 (invalid_bid, docs/reliability.md).
  const bad: Array<[string, string]> = [['job_id', '98.5'], ['job_id', '-7.0'], ['publisher_id', '1.25'], ['campaign_id', '-1.0'], ['group_id', '0.5']];
  bad.forEach(([col, value], i) => {
    const f = [...template];
    const id = `${(0x10000000 + i).toString(16)}-0d60-11ed-90e9-7cd44fe229db`;
    f[1] = id;
    f[6] = 'click';
    f[14] = '98.0';
    const colIx = { job_id: 14, publisher_id: 16, campaign_id: 4, group_id: 12, bid: 2 }[col]!;
    f[colIx] = value;
    poisonRows.push(f.slice(0, 30).map((x) => (/[",\n]/.test(x) ? `"${x.replaceAll('"', '""')}"` : x)).join(','));
    poisonIds.push(id);
  });
  const { tracking, jobs } = dataset(5000, 91, poisonRows);
  await loadJobs(s, jobs);
  await ingestAndPublishDirect(s, [tracking]);
  await consumeUntilCaughtUp(s);
  const exp = expectedFrom([tracking], jobs);
  assert.equal(exp.poison, bad.length);
  await assertExact(s, '9 poison messages', exp);

  const kafka = createKafka(s.config.kafka, 'dlq-probe');
  const consumer = kafka.consumer({ groupId: `${s.config.kafka.consumerGroup}-dlq` });
  const dlq: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: s.config.kafka.deadLetterTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void dlq.push(message) });
    await waitFor('dead letters', 60_000, async () => dlq.length >= bad.length);
    await sleep(1000);
  } finally {
    await consumer.disconnect();
  }
  assert.equal(dlq.length, bad.length);
  const h = (m: KafkaMessage, k: string) => m.headers?.[k]?.toString();
  // A dead letter keeps the original value: a v1 object or a v2 array `[2, event_id, ...]` (docs/publish.md).
  const eventIdOf = (m: KafkaMessage): unknown => {
    const v = JSON.parse(m.value!.toString()) as unknown;
    return Array.isArray(v) ? v[1] : (v as { event_id?: unknown }).event_id;
  };
  const dlqIds = dlq.map(eventIdOf).sort();
  assert.deepEqual(dlqIds, [...poisonIds].sort());
  for (const m of dlq) {
    assert.equal(h(m, DLQ_HEADERS.topic), s.config.kafka.topic);
    assert.match(h(m, DLQ_HEADERS.partition) ?? '', /^\d+$/);
    assert.match(h(m, DLQ_HEADERS.offset) ?? '', /^\d+$/);
    assert.equal(h(m, DLQ_HEADERS.errorClass), 'PoisonMessageError');
    assert.match(h(m, DLQ_HEADERS.errorMessage) ?? '', /job_id|publisher_id|campaign_id|group_id|bid/);
  }
  // Each dead letter points at its original: same bytes at the recorded partition and offset.
  const first = dlq[0]!;
  const orig = await readPartition(s.config.kafka.topic, Number(h(first, DLQ_HEADERS.partition)), Number(h(first, DLQ_HEADERS.offset)) + 1);
  assert.equal(orig.at(-1)!.value!.toString(), first.value!.toString());
});
