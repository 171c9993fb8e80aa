import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Batch, KafkaMessage } from 'kafkajs';
import { assignedPartitions, fetchedOffset } from '../../lib/stream/assignment';
import { halves, offsetAfter, planChunks } from '../../lib/stream/chunk';
import type { CommittedBatch } from '../../lib/stream/counts';
import { addCommitted } from '../../lib/stream/counts';
import { consumerConfig } from '../../lib/stream/fetch';
import { newLeaseState, zeroCounts } from '../../lib/stream/lease';
import { caughtUp, heartbeatDetails, leasePartitions, ownProgress, topicProgress } from '../../lib/stream/progress';
import { backoffMs } from '../../lib/stream/retry';
import { uniqueCountable } from '../../lib/stream/commit';
import { StallWatch } from '../../lib/stream/stall';

const msg = (offset: number): KafkaMessage => ({ offset: String(offset), key: null, value: null, timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage;

void test('backoff: 200 ms doubling, capped at 5 s, jittered within ±25 %', () => {
  assert.equal(backoffMs(0, () => 0.5), 200);
  assert.equal(backoffMs(1, () => 0.5), 400);
  assert.equal(backoffMs(4, () => 0.5), 3200);
  assert.equal(backoffMs(5, () => 0.5), 5000);
  assert.equal(backoffMs(30, () => 0.5), 5000);
  assert.equal(backoffMs(0, () => 0), 150);
  assert.equal(backoffMs(0, () => 1), 250);
  assert.equal(backoffMs(10, () => 0), 3750);
});

void test('planChunks: chunkSize messages each, the last ending at the batch last offset', () => {
  const messages = [10, 11, 12, 13, 14].map(msg);
  const chunks = planChunks(messages, 2, '16');
  assert.deepEqual(chunks.map((c) => [c.messages.map((m) => m.offset), c.lastOffset]), [
    [['10', '11'], '11'],
    [['12', '13'], '13'],
    [['14'], '16'],
  ]);
  assert.deepEqual(planChunks(messages, 5, '14').map((c) => c.lastOffset), ['14']);
  assert.deepEqual(planChunks([], 5, '3'), []);
  assert.equal(offsetAfter('16'), '17');
  assert.equal(offsetAfter('9007199254740993'), '9007199254740994');
});

void test('halves: the first ends at its last message, the second keeps the piece end and its DLQ set', () => {
  const sent = new Set(['3']);
  const [a, b] = halves({ partition: 2, messages: [3, 4, 5].map(msg), expected: '3', lastOffset: '7', sentToDlq: sent });
  assert.deepEqual([a.messages.map((m) => m.offset), a.expected, a.lastOffset], [['3', '4'], '3', '4']);
  assert.deepEqual([b.messages.map((m) => m.offset), b.lastOffset, b.partition], [['5'], '7', 2]);
  assert.equal(b.sentToDlq, sent);
  assert.equal('expected' in b, false);
});

void test('fetchedOffset prefers the patched fetchedOffset; assignedPartitions sorts the topic assignment', () => {
  assert.equal(fetchedOffset({ fetchedOffset: '40', firstOffset: () => '42' } as unknown as Batch), '40');
  assert.equal(fetchedOffset({ firstOffset: () => '42' } as unknown as Batch), '42');
  assert.deepEqual(assignedPartitions({ t: [5, 1, 3], other: [0] }, 't'), [1, 3, 5]);
  assert.deepEqual(assignedPartitions({ other: [0] }, 't'), []);
});

void test('progress: lag from high offsets and stored ones (the low offset when none is stored); a slot sees its own', () => {
  const p = topicProgress(
    [
      { partition: 1, high: '50', low: '10' },
      { partition: 0, high: '100', low: '0' },
      { partition: 2, high: '5', low: '5' },
    ],
    new Map([[0, '90'], [1, '60']]),
  );
  assert.deepEqual(p.partitions, [
    { partition: 0, nextOffset: '90', lag: 10 },
    { partition: 1, nextOffset: '60', lag: 0 },
    { partition: 2, nextOffset: '5', lag: 0 },
  ]);
  assert.equal(p.lag, 10);
  assert.deepEqual(ownProgress(p, { index: 1, count: 2 }), { partitions: [{ partition: 1, nextOffset: '60', lag: 0 }], lag: 0 });
  // Without a slot, once joined, only the assigned partitions count towards "caught up".
  assert.deepEqual(leasePartitions(p, undefined, { joined: true, assigned: [1, 2] }).map((x) => x.partition), [1, 2]);
  assert.equal(caughtUp(p, undefined, { joined: true, assigned: [1, 2] }), true);
  assert.equal(caughtUp(p, undefined, { joined: false, assigned: [] }), false);
  assert.equal(caughtUp(p, { index: 1, count: 2 }, { joined: false, assigned: [] }), true);
  assert.equal(caughtUp({ partitions: [], lag: 0 }, undefined, { joined: false, assigned: [] }), false);
});

void test('heartbeat details carry the lease counts and own lag; a slot adds who ran it and the last error', () => {
  const state = newLeaseState(new StallWatch(1000));
  state.progress = { partitions: [{ partition: 0, nextOffset: '3', lag: 4 }, { partition: 1, nextOffset: '2', lag: 1 }], lag: 5 };
  state.counts.counted = 7;
  state.lastError = 'commit: boom';
  const single = heartbeatDetails(state, undefined);
  assert.equal(single['lag'], 5);
  assert.equal((single['counts'] as { counted: number }).counted, 7);
  assert.equal(single['status'], 'ok');
  assert.equal('consumer' in single, false);
  const slot = heartbeatDetails(state, { index: 1, count: 2 });
  assert.equal(slot['lag'], 1);
  assert.deepEqual((slot['consumer'] as { partitions: number[] }).partitions, [1]);
  assert.equal(slot['lastError'], 'commit: boom');
});

void test('addCommitted adds a transaction outcome to the lease counts, field by field', () => {
  const counts = zeroCounts();
  const result: CommittedBatch = {
    status: 'committed', counted: 5, duplicates: 2, redelivered: 1, unknownJob: 3, rows: 4, fixedRows: 0,
    counts: { consumed: 10, filtered: 1, unattributed: 0, deadLettered: 1 },
  };
  addCommitted(counts, result);
  addCommitted(counts, result);
  assert.deepEqual(counts, {
    consumed: 20, counted: 10, filtered: 2, unattributed: 0, deadLettered: 2,
    duplicates: 4, redelivered: 2, unknownJob: 6, batches: 2, fenced: 0, retries: 0,
  });
});

void test('uniqueCountable drops redelivered offsets and repeats of an event id within the batch', () => {
  const ev = (eventId: string) => ({ eventId }) as never;
  const { candidates, inBatchDuplicates } = uniqueCountable(
    [
      { event: ev('00000000-0000-1000-8000-000000000001'), offset: '1' },
      { event: ev('00000000-0000-1000-8000-000000000001'), offset: '2' },
      { event: ev('00000000-0000-1000-8000-000000000002'), offset: '3' },
      { event: ev('00000000-0000-1000-8000-000000000003'), offset: '4' },
    ],
    new Set(['3']),
  );
  assert.deepEqual(candidates.map((c) => c.offset), ['1', '4']);
  assert.equal(inBatchDuplicates, 1);
  assert.equal(candidates[0]!.key.length, 16);
});

void test('consumerConfig: a slot gets its own group and assigner; offsets are never auto-created topics', () => {
  const single = consumerConfig('g', undefined);
  assert.equal(single.groupId, 'g');
  assert.equal(single.partitionAssigners, undefined);
  assert.equal(single.allowAutoTopicCreation, false);
  assert.equal(single.maxBytesPerPartition, 384 * 1024);
  assert.equal(single.maxBytes, 1536 * 1024);
  const slot = consumerConfig('g', { index: 0, count: 3 }, 1024);
  assert.equal(slot.groupId, 'g.slice-0-of-3');
  assert.equal(slot.partitionAssigners?.length, 1);
  assert.equal(slot.maxBytesPerPartition, 1024);
});
