/**
 * A bounded fuzz of the stream stage: valid contract messages mixed with mutated ones (bit flips,
 * truncations, huge fields, non-finite numbers, wrong types, out-of-range ids and bids, long batch names,
 * tombstones, garbage bytes), produced straight into an isolated topic and consumed by the real consumer
 * into an isolated MySQL database. The expected outcome comes from test/support/messageReference.ts.
 */
import assert from 'node:assert/strict';
import { CompressionTypes } from 'kafkajs';
import type { Message } from 'kafkajs';
import type { RowDataPacket } from 'mysql2/promise';
import { readStreamTotals } from '../../lib/stream/commit';
import { runConsumeLease } from '../../lib/stream/consumer';
import type { TestStack } from './env';
import { expectStream, expectedRowLines } from './messageReference';
import type { RawMessage, StreamExpectation } from './messageReference';
import { mulberry32 } from '../../lib/domain/random';

export interface FuzzPlan {
  seed: number;
  /** Base (valid) messages; about `mutationRate` of them are also sent mutated. */
  messages: number;
  mutationRate: number;
  partitions: number;
  /** Bytes of the largest "huge field" mutation. */
  hugeBytes: number;
  chunkSize?: number;
  /** Each lease's length: short leases end mid-stream and the next one resumes. */
  leaseMs?: number;
}

export interface FuzzReport {
  messages: number;
  mutated: number;
  poison: number;
  bytes: number;
  leases: number;
  produceMs: number;
  consumeMs: number;
  mutations: Record<string, number>;
  expected: StreamExpectation;
}

const TRACKS = ['click', 'click', 'click', 'conversion', 'qualified', 'unqualified', 'alive', 'redirect', null];
const BIDS = [null, 0, 0.5, 1.25, 0.1, 2, 3.333333, 123.456789, 0.0000005, 999_999_999_999.99, -1.5];
const BATCHES = ['b-1', 'b-2', 'b-3'];

/** A v1 time UUID in July 2022 (hex by hand: time_low, time_mid, 1 + time_hi, variant + clock, node). */
function uuid(rnd: () => number): string {
  const millis = BigInt(Date.UTC(2022, 6, 1) + Math.floor(rnd() * 20 * 86_400_000));
  const ticks = (millis * 10000n + BigInt(Math.floor(rnd() * 10000)) + 122192928000000000n).toString(16).padStart(15, '0');
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  return `${ticks.slice(7)}-${ticks.slice(3, 7)}-1${ticks.slice(0, 3)}-${'89ab'[Math.floor(rnd() * 4)]}${hex(3)}-${hex(12)}`;
}

type Obj = Record<string, unknown>;
const MUTATIONS: Array<[string, (o: Obj, text: string, rnd: () => number, hugeBytes: number) => Partial<RawMessage>]> = [
  ['bitflip', (_o, text, rnd) => {
    const b = Buffer.from(text);
    const i = Math.floor(rnd() * b.length);
    b[i] = b[i]! ^ (1 << Math.floor(rnd() * 8));
    return { value: b };
  }],
  ['truncate', (_o, text, rnd) => ({ value: text.slice(0, Math.floor(rnd() * text.length)) })],
  ['nonfinite', (_o, text, rnd) => {
    const f = ['bid', 'job_id', 'publisher_id', 'campaign_id', 'group_id'][Math.floor(rnd() * 5)];
    return { value: text.replace(new RegExp(`("${f}":)[^,}]+`), `$1${rnd() < 0.5 ? '1e400' : '-1e999'}`) };
  }],
  ['wrongtype', (o, _t, rnd) => {
    const cases: Obj[] = [{ job_id: '98' }, { bid: [1] }, { custom_track: 5 }, { event_id: 12 }, { v: '1' }, { v: 2 }, { publisher_id: { a: 1 } }, { pub: 5 }];
    return { value: JSON.stringify({ ...o, ...cases[Math.floor(rnd() * cases.length)] }) };
  }],
  ['range', (o, _t, rnd) => {
    const cases: Obj[] = [{ job_id: 2 ** 53 }, { job_id: -1 }, { job_id: 1.5 }, { bid: 1e12 }, { bid: -1e13 }, { group_id: 1e20 }, { campaign_id: -0.5 }];
    return { value: JSON.stringify({ ...o, custom_track: 'click', job_id: 7, ...cases[Math.floor(rnd() * cases.length)] }) };
  }],
  ['longbatch', (o, _t, rnd) => ({ value: JSON.stringify({ ...o, pub: `${'b'.repeat(65 + Math.floor(rnd() * 400))}:1` }) })],
  ['headerbatch', (o, _t, rnd) => {
    const { pub: _pub, ...rest } = o;
    return { value: JSON.stringify(rest), headers: { 'trackflow-batch': 'h'.repeat(65 + Math.floor(rnd() * 400)), 'trackflow-seq': '1' } };
  }],
  ['hugefield', (o, _t, rnd, hugeBytes) => {
    const n = Math.floor(hugeBytes / 2 + rnd() * (hugeBytes / 2));
    const cases: Obj[] = [{ custom_track: 'x'.repeat(n) }, { extra: 'y'.repeat(n) }, { event_id: 'z'.repeat(n) }];
    return { value: JSON.stringify({ ...o, ...cases[Math.floor(rnd() * cases.length)] }) };
  }],
  ['tombstone', () => ({ value: null })],
  ['garbage', (_o, _t, rnd) => ({ value: Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256))) })],
];

/** The messages to produce, in order, each with its explicit partition (copies share their original's). */
/** The v2 value of a generated v1 object, built here from the contract's element order. */
function v2Text(o: Obj): string {
  const pub = o['pub'] as string | undefined;
  const at = pub === undefined ? -1 : pub.lastIndexOf(':');
  const position = pub === undefined ? [null, null] : [pub.slice(0, at), Number(pub.slice(at + 1))];
  return JSON.stringify([2, o['event_id'], o['job_id'], o['custom_track'], o['bid'], o['campaign_id'], o['group_id'], o['publisher_id'], ...position]);
}

export function fuzzMessages(plan: FuzzPlan): { messages: RawMessage[]; mutated: number; mutations: Record<string, number> } {
  const rnd = mulberry32(plan.seed);
  const messages: RawMessage[] = [];
  const mutations: Record<string, number> = {};
  const seqs = new Map<string, number>();
  const sent: RawMessage[] = [];
  let mutated = 0;
  for (let i = 0; i < plan.messages; i++) {
    const partition = i % plan.partitions;
    const job = rnd() < 0.1 ? null : 1 + Math.floor(rnd() * 20);
    const o: Obj = {
      v: 1, event_id: uuid(rnd), ts: '2022-07-08T00:00:00.000Z', job_id: job,
      custom_track: TRACKS[Math.floor(rnd() * TRACKS.length)], bid: BIDS[Math.floor(rnd() * BIDS.length)],
      campaign_id: rnd() < 0.2 ? null : Math.floor(rnd() * 5), group_id: rnd() < 0.2 ? null : Math.floor(rnd() * 3),
      publisher_id: rnd() < 0.2 ? null : Math.floor(rnd() * 4),
    };
    if (rnd() < 0.5) {
      const batch = BATCHES[Math.floor(rnd() * BATCHES.length)]!;
      const seq = (seqs.get(batch) ?? 0) + 1;
      seqs.set(batch, seq);
      o['pub'] = `${batch}:${seq}`;
    }
    // Half the valid messages in the v2 form: a topic in mid-upgrade holds both versions.
    const text = rnd() < 0.5 ? JSON.stringify(o) : v2Text(o);
    const valid: RawMessage = { partition, key: job === null ? null : String(job), value: text };
    messages.push(valid);
    sent.push(valid);
    if (rnd() < plan.mutationRate) {
      const [name, mutate] = MUTATIONS[Math.floor(rnd() * MUTATIONS.length)]!;
      mutations[name] = (mutations[name] ?? 0) + 1;
      mutated += 1;
      messages.push({ partition, key: valid.key, value: text, ...mutate(o, text, rnd, plan.hugeBytes) });
    }
    // Re-sent copies: a duplicate event (no pub) or a publisher re-send (same pub, dropped by the watermark).
    if (rnd() < 0.03) {
      const copy = sent[Math.floor(rnd() * sent.length)]!;
      if (copy.partition === partition) messages.push({ ...copy });
    }
  }
  return { messages, mutated, mutations };
}

async function produceAll(s: TestStack, messages: RawMessage[]): Promise<number> {
  const producer = s.deps.kafka.producer({ maxInFlightRequests: 1 });
  await producer.connect();
  let bytes = 0;
  try {
    let batch: Message[] = [];
    let size = 0;
    const flush = async () => {
      // gzip on purpose, whatever the publisher uses: the consumer must keep reading gzip'd batches.
      if (batch.length) await producer.send({ topic: s.config.kafka.topic, acks: -1, compression: CompressionTypes.GZIP, messages: batch });
      batch = [];
      size = 0;
    };
    for (const m of messages) {
      const len = m.value === null ? 0 : Buffer.byteLength(m.value);
      bytes += len;
      if (size + len > 400_000) await flush();
      batch.push({ partition: m.partition, key: m.key, value: m.value, headers: m.headers });
      size += len;
    }
    await flush();
  } finally {
    await producer.disconnect();
  }
  return bytes;
}

async function topicCount(s: TestStack, topic: string): Promise<number> {
  const admin = s.deps.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function warehouseLines(s: TestStack): Promise<string[]> {
  const [rows] = await s.deps.mysql.query<RowDataPacket[]>(
    `SELECT CAST(job_id AS CHAR) j, DATE_FORMAT(dates, '%Y-%m-%d') d, hours h, CAST(publisher_id AS CHAR) p, CAST(campaign_id AS CHAR) c,
       CAST(group_id AS CHAR) g, COALESCE(CAST(bid_set AS CHAR), 'null') bs, clicks, CAST(bid_sum AS CHAR) s, conversion, qualified_application q,
       disqualified_application dq FROM events`,
  );
  return rows.map((r) => Object.values(r).join('|')).sort();
}

/** Produces the plan's messages, consumes them in leases until caught up, and checks the stage's invariant. */
export async function runStreamFuzz(s: TestStack, plan: FuzzPlan): Promise<FuzzReport> {
  const admin = s.deps.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: s.config.kafka.topic, numPartitions: plan.partitions }], waitForLeaders: true });
  await admin.disconnect();
  const { messages, mutated, mutations } = fuzzMessages(plan);
  const expected = expectStream(messages);
  const t0 = Date.now();
  const bytes = await produceAll(s, messages);
  const t1 = Date.now();
  let leases = 0;
  for (;;) {
    leases += 1;
    assert.ok(leases <= 50, 'the stream did not catch up in 50 leases');
    const r = await runConsumeLease(s.deps, { leaseMs: plan.leaseMs ?? 60_000, stopWhenCaughtUp: true, chunkSize: plan.chunkSize });
    assert.equal(r.status, 'ok', `no partition may stall: ${r.status}`);
    if (r.endReason === 'caught-up') break;
  }
  const consumeMs = Date.now() - t1;

  // The stage went on: caught up. Its counters equal the reference's, and add up.
  const t = await readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
  const got = { consumed: t.consumed, counted: t.counted, filtered: t.filtered, unattributed: t.unattributed, deadLettered: t.deadLettered, duplicates: t.duplicates, redelivered: t.redelivered };
  const want = { consumed: expected.consumed, counted: expected.counted, filtered: expected.filtered, unattributed: expected.unattributed, deadLettered: expected.deadLettered, duplicates: expected.duplicates, redelivered: expected.redelivered };
  assert.deepEqual(got, want);
  assert.equal(t.consumed - t.redelivered, t.filtered + t.unattributed + t.deadLettered + t.duplicates + t.counted, 'stream equation');
  // The warehouse equals the reference over the valid events, and holds exactly the counted ones.
  assert.deepEqual(await warehouseLines(s), expectedRowLines(expected));
  const [sum] = await s.deps.mysql.query<RowDataPacket[]>(
    'SELECT COALESCE(SUM(clicks + conversion + qualified_application + disqualified_application), 0) n FROM events',
  );
  assert.equal(Number(sum[0]?.['n']), t.counted, 'warehouse equation');
  // Every poison message reached the dead-letter topic, once (no crash here, so no repeats).
  assert.equal(await topicCount(s, s.config.kafka.deadLetterTopic), expected.deadLettered);
  return { messages: messages.length, mutated, poison: expected.deadLettered, bytes, leases, produceMs: t1 - t0, consumeMs, mutations, expected };
}
