import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoisonMessageError, decodeMessage, encodeMessage, toMessage } from '../../lib/domain/message';
import type { TrackingMessageV1 } from '../../lib/domain/message';
import { aggregate, bidSet, classify, microsToDecimal } from '../../lib/domain/transform';
import type { CountableEvent } from '../../lib/domain/transform';
import { messageOrigin } from '../../lib/publish/headers';
import { queueRowFields } from '../../lib/publish/publisher';
import { StallWatch, stallStatus } from '../../lib/stream/stall';
import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { batchBudget, defaultPartitionOf, encodedSize, isRecordError, splitBySize } from '../../lib/kafka/sizedSend';

const base: TrackingMessageV1 = {
  v: 1,
  event_id: '26eb3150-0d61-11ed-9fd0-70c372b40ff7',
  ts: '2022-07-27T04:04:03.429Z',
  job_id: 187,
  custom_track: 'click',
  bid: 1,
  campaign_id: 48,
  group_id: 34,
  publisher_id: 1,
};

function countable(m: TrackingMessageV1): CountableEvent {
  const c = classify(m);
  assert.equal(c.kind, 'countable');
  return (c as { event: CountableEvent }).event;
}

test('case 4: 5,000 clicks at the largest accepted bid sum exactly (no exponent in the decimal text)', () => {
  const event = countable({ ...base, bid: 999_999_999_999.99 });
  const [g] = aggregate(Array.from({ length: 5000 }, (_, i) => ({ ...event, eventId: `e${i}` })));
  // 5000 * 999,999,999,999.99, worked by hand: 4,999,999,999,999,950.
  assert.equal(microsToDecimal(g!.bidSumMicros), '4999999999999950.000000');
  assert.equal(bidSet(g!.bidSumMicros, g!.clicks), '999999999999.99');
});

test('case 4: a bid is converted to millionths from its decimal text, exactly, rounding half away from zero', () => {
  const micros = (bid: number) => String(countable({ ...base, bid }).bidMicros);
  assert.equal(micros(123_456_789_012.3456), '123456789012345600');
  assert.equal(micros(0.1), '100000');
  assert.equal(micros(1.25), '1250000');
  assert.equal(micros(0.0000005), '1');
  assert.equal(micros(-0.0000005), '-1');
  assert.equal(micros(1e-7), '0');
  assert.equal(micros(0.1234565), '123457');
});

test('case 3: encodeMessage refuses a non-finite number instead of writing null', () => {
  for (const bad of [Infinity, -Infinity, NaN]) {
    for (const field of ['bid', 'job_id', 'campaign_id', 'group_id', 'publisher_id'] as const) {
      assert.throws(() => encodeMessage({ ...base, [field]: bad }), PoisonMessageError, `${field}=${bad}`);
    }
  }
});

test('case 3: a lake row with an infinite bid does not become a message with bid null', () => {
  const row = { create_time: base.event_id, job_id: 187, custom_track: 'click', bid: Infinity, campaign_id: 1, group_id: 2, publisher_id: 3 };
  assert.throws(() => toMessage(queueRowFields(row as never)), PoisonMessageError);
});

test('case 3: decodeMessage rejects overflowing literals in every numeric field', () => {
  for (const field of ['bid', 'job_id', 'campaign_id', 'group_id', 'publisher_id']) {
    const text = JSON.stringify(base).replace(new RegExp(`"${field}":[^,}]+`), `"${field}":1e400`);
    assert.match(text, /1e400/);
    assert.throws(() => decodeMessage(text), /finite/, field);
  }
});

test('case 7: a publish batch name longer than its VARCHAR(64) column is poison, in the value and in the header', () => {
  assert.equal(decodeMessage(JSON.stringify({ ...base, pub: `${'b'.repeat(64)}:1` })).pub, `${'b'.repeat(64)}:1`);
  assert.throws(() => decodeMessage(JSON.stringify({ ...base, pub: `${'b'.repeat(65)}:1` })), /64/);
  assert.throws(
    () => messageOrigin(undefined, { 'trackflow-batch': Buffer.from('h'.repeat(65)), 'trackflow-seq': Buffer.from('3') }),
    PoisonMessageError,
  );
  // Characters, not bytes: the column is utf8mb4.
  assert.equal(decodeMessage(JSON.stringify({ ...base, pub: `${'é'.repeat(64)}:1` })).pub?.length, 66);
});

test('sized split: every piece stays under the budget per partition, order kept, an oversized message alone', () => {
  const msgs = Array.from({ length: 2600 }, (_, i) => ({ key: String(i % 3), value: 'x'.repeat(i === 7 ? 5000 : 380), i }));
  const budget = 100_000;
  const pieces = splitBySize(msgs, budget, (m) => Number(m.key));
  assert.deepEqual(pieces.flat().map((m) => m.i), msgs.map((m) => m.i));
  for (const piece of pieces) {
    for (const p of [0, 1, 2]) {
      const size = piece.filter((m) => Number(m.key) === p).reduce((s, m) => s + encodedSize(m), 0);
      assert.ok(size <= budget || piece.length === 1, `piece of ${piece.length} has ${size} bytes in partition ${p}`);
    }
  }
  assert.ok(splitBySize(msgs, 1000).some((piece) => piece.length === 1 && piece[0]!.i === 7));
  assert.ok(batchBudget(1_048_576) < 1_048_576 - 512);
});

test('record errors are told apart from cluster errors', () => {
  assert.equal(isRecordError({ type: 'MESSAGE_TOO_LARGE', retriable: false }), true);
  assert.equal(isRecordError({ name: 'KafkaJSNonRetriableError', originalError: { type: 'RECORD_LIST_TOO_LARGE' } }), true);
  assert.equal(isRecordError({ type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false }), false);
  assert.equal(isRecordError(new Error('Connection timeout')), false);
});

test('stall watch: lag and no movement for stallMs is a stall; movement or no lag resets it', () => {
  const w = new StallWatch(1000);
  const p = (nextOffset: string, lag: number) => [{ partition: 2, nextOffset, lag }];
  assert.deepEqual(w.observe(p('5', 3), 0), []);
  assert.deepEqual(w.observe(p('5', 3), 999), []);
  assert.deepEqual(w.observe(p('5', 4), 1000), [{ partition: 2, nextOffset: '5', lag: 4, stalledMs: 1000 }]);
  assert.equal(stallStatus(w.observe(p('5', 4), 2400)), 'partition 2 stalled for 2 s at offset 5 with lag 4');
  assert.deepEqual(w.observe(p('6', 3), 2500), []);
  assert.deepEqual(w.observe(p('6', 3), 3400), []);
  assert.deepEqual(w.observe(p('6', 0), 9000), []);
  assert.deepEqual(w.observe(p('6', 2), 9500), []);
  assert.equal(stallStatus([]), 'ok');
});

test('partitions counted ahead of the send are the ones kafkajs picks (keys cached, explicit partitions kept)', () => {
  const raw = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 0 }) as PartitionMetadata);
  const mine = defaultPartitionOf('t', 6);
  const messages = [...Array.from({ length: 3000 }, (_, i) => ({ key: String(i % 700), value: 'v' })), { key: null, value: 'v', partition: 4 }];
  for (const message of messages) assert.equal(mine(message), raw({ topic: 't', partitionMetadata, message }));
  assert.deepEqual(new Set(messages.map(mine)), new Set([0, 1, 2, 3, 4, 5]));
});
