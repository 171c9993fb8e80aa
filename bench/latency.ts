import type { Message, RecordMetadata } from 'kafkajs';
import { compressionType } from '../lib/clients/kafkaCodecs';
import type { RowDataPacket } from 'mysql2/promise';
import { openTestStack } from '../test/support/env';
import type { TrackingMessageV1 } from '../lib/domain/message';
import { encodeMessageAs, messageKey } from '../lib/domain/message';
import { makeTimeUuid } from '../lib/domain/timeuuid';
import { ensureTopic } from '../lib/kafka/topics';
import { runConsumeLease } from '../lib/stream/consumer';
import type { Log } from './platform';
import type { StageUsage } from './resources';
import { measureStage, percentile } from './resources';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LatencyResult {
  targetRate: number;
  durationSeconds: number;
  produced: number;
  achievedRate: number;
  measured: number;
  /** Messages whose commit was not seen before the drain timeout. */
  notCommitted: number;
  pollMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  produceAckP99Ms: number;
  usage: StageUsage;
}

const JOBS = 5000;
const POLL_MS = 50;
const MAX_IN_FLIGHT = 8;

/** The i-th of a stream of distinct, countable contract messages (clicks spread over JOBS jobs). */
export function clickMessage(i: number, now: number): TrackingMessageV1 {
  // Keys spread over JOBS jobs (a stride prime to JOBS visits all of them), every event id distinct.
  const job = 1 + ((i * 7919) % JOBS);
  return {
    v: 1,
    event_id: makeTimeUuid(now, i % 10_000, Math.floor(i / 10_000), '00163e5a0b02'),
    ts: new Date(now).toISOString(),
    job_id: job,
    custom_track: 'click',
    bid: 1,
    campaign_id: 1 + (job % 100),
    group_id: job % 11,
    publisher_id: 1 + (i % 5),
  };
}


/**
 * Publish-to-warehouse latency under a steady rate. Each message's publish time is its Kafka timestamp (set at
 * send); its warehouse time is the first poll of consumer_offsets (every POLL_MS) that shows its partition's
 * committed next_offset past it. The consumer commits rows and offsets in one transaction, so that poll is
 * when the row became visible, give or take one poll interval plus the query time.
 */
export async function runLatency(opts: { rate: number; durationSeconds: number; log: Log }): Promise<LatencyResult> {
  const { rate, durationSeconds, log } = opts;
  const stack = await openTestStack('benchlat');
  const { deps, config: cfg } = stack;
  const { topic, consumerGroup: group } = cfg.kafka;
  const partitions = await ensureTopic(deps.kafka, topic, cfg.kafka.partitions);
  // Compressed as the publisher compresses (TRACKFLOW_KAFKA_COMPRESSION).
  const compression = compressionType(cfg.kafka.compression);
  const encodeMessage = (m: TrackingMessageV1) => encodeMessageAs(cfg.kafka.messageVersion, m);
  const jobs: Array<[number, number, string]> = [];
  for (let j = 1; j <= JOBS; j++) jobs.push([j, 1 + (j % 300), '2022-07-01 00:00:00']);
  await deps.mysql.query('INSERT INTO job (id, company_id, updated_at) VALUES ?', [jobs]);

  const abort = new AbortController();
  const producer = deps.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let lease: Promise<unknown> | undefined;
  try {
    lease = runConsumeLease(deps, { leaseMs: (durationSeconds + 600) * 1000, signal: abort.signal });

    const committed = new Map<number, bigint>();
    const readOffsets = async (): Promise<void> => {
      const [rows] = await deps.mysql.query<RowDataPacket[]>(
        'SELECT partition_id, next_offset FROM consumer_offsets WHERE consumer_group = ? AND topic = ?',
        [group, topic],
      );
      for (const r of rows) committed.set(Number(r['partition_id']), BigInt(String(r['next_offset'])));
    };

    // Warm-up: one message per partition, committed, so the group join is not counted as latency.
    const warm = Array.from({ length: partitions }, (_, p) => {
      const m = clickMessage(p, Date.now());
      return { key: messageKey(m), value: encodeMessage(m), partition: p };
    });
    const warmMeta = await producer.send({ topic, messages: warm, acks: -1, compression });
    const warmEnd = new Map(warmMeta.map((m) => [m.partition, BigInt(m.baseOffset ?? '0') + 1n]));
    const warmDeadline = Date.now() + 120_000;
    for (;;) {
      await readOffsets();
      if ([...warmEnd].every(([p, end]) => (committed.get(p) ?? 0n) >= end)) break;
      if (Date.now() > warmDeadline) throw new Error('latency warm-up: consumer did not commit within 120 s');
      await sleep(200);
    }
    log(`  latency: consumer joined and committed the warm-up; producing ${rate}/s for ${durationSeconds} s`);

    const total = Math.round(rate * durationSeconds);
    const sentAt = new Float64Array(total);
    const ackMs = new Float64Array(total);
    const partOf = new Int8Array(total);
    const offsetOf = new Float64Array(total).fill(-1);
    // Per partition, the times at which the committed offset was seen to move: [pollTime, nextOffset].
    const timeline = new Map<number, Array<[number, number]>>();
    let polling = false;
    const poller = setInterval(() => {
      if (polling) return;
      polling = true;
      readOffsets()
        .then(() => {
          const t = performance.timeOrigin + performance.now();
          for (const [p, next] of committed) {
            const tl = timeline.get(p) ?? [];
            const last = tl[tl.length - 1];
            if (!last || last[1] !== Number(next)) tl.push([t, Number(next)]);
            timeline.set(p, tl);
          }
        })
        .catch((err: unknown) => log(`  offset poll failed: ${(err as Error).message}`))
        .finally(() => (polling = false));
    }, POLL_MS);

    let sent = 0;
    let firstError: unknown;
    const inFlight = new Set<Promise<void>>();
    const measured = await measureStage(
      `latency ${rate}/s`,
      async () => {
        const start = Date.now();
        while (sent < total) {
          const due = Math.min(total, Math.floor((rate * (Date.now() - start)) / 1000));
          if (due > sent && inFlight.size < MAX_IN_FLIGHT) {
            const from = sent;
            const now = Date.now();
            const messages: Message[] = [];
            for (let i = from; i < due; i++) {
              const m = clickMessage(i + partitions, now);
              const p = (m.job_id as number) % partitions;
              partOf[i] = p;
              sentAt[i] = now;
              messages.push({ key: messageKey(m), value: encodeMessage(m), partition: p, timestamp: String(now) });
            }
            sent = due;
            const send = producer
              .send({ topic, messages, acks: -1, compression })
              .then((meta: RecordMetadata[]) => {
                const acked = Date.now();
                const base = new Map(meta.map((m) => [m.partition, Number(m.baseOffset ?? '0')]));
                const seen = new Map<number, number>();
                for (let i = from; i < due; i++) {
                  const p = partOf[i]!;
                  const k = seen.get(p) ?? 0;
                  seen.set(p, k + 1);
                  offsetOf[i] = (base.get(p) ?? Number.NaN) + k;
                  ackMs[i] = acked - now;
                }
              })
              .catch((err: unknown) => {
                firstError ??= err;
              })
              .finally(() => inFlight.delete(send));
            inFlight.add(send);
          }
          if (firstError) throw firstError;
          await sleep(5);
        }
        await Promise.all(inFlight);
        if (firstError) throw firstError;
        const producedSeconds = (Date.now() - start) / 1000;
        // Drain: wait until every partition's committed offset passes the last message sent to it.
        const lastOffset = new Map<number, number>();
        for (let i = 0; i < total; i++) lastOffset.set(partOf[i]!, Math.max(lastOffset.get(partOf[i]!) ?? -1, offsetOf[i]!));
        const drainDeadline = Date.now() + 120_000;
        while (Date.now() < drainDeadline) {
          if ([...lastOffset].every(([p, o]) => Number(committed.get(p) ?? 0n) > o)) break;
          await sleep(POLL_MS);
        }
        await sleep(POLL_MS * 2);
        return producedSeconds;
      },
      { log, progress: () => `${sent}/${total} sent` },
    );
    clearInterval(poller);

    const lat: number[] = [];
    let notCommitted = 0;
    for (let i = 0; i < total; i++) {
      const tl = timeline.get(partOf[i]!) ?? [];
      const o = offsetOf[i]!;
      // First poll whose next_offset is past this message (timelines are in time order, offsets never go back).
      let lo = 0;
      let hi = tl.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (tl[mid]![1] > o) hi = mid;
        else lo = mid + 1;
      }
      if (lo < tl.length) lat.push(Math.max(0, tl[lo]![0] - sentAt[i]!));
      else notCommitted++;
    }
    lat.sort((a, b) => a - b);
    const acks = Array.from(ackMs).sort((a, b) => a - b);
    return {
      targetRate: rate,
      durationSeconds,
      produced: total,
      achievedRate: Math.round(total / measured.result),
      measured: lat.length,
      notCommitted,
      pollMs: POLL_MS,
      p50Ms: Math.round(percentile(lat, 50)),
      p95Ms: Math.round(percentile(lat, 95)),
      p99Ms: Math.round(percentile(lat, 99)),
      maxMs: Math.round(lat[lat.length - 1] ?? Number.NaN),
      produceAckP99Ms: Math.round(percentile(acks, 99)),
      usage: measured.usage,
    };
  } finally {
    abort.abort();
    await lease?.catch((err: unknown) => log(`  consumer lease ended with ${(err as Error).message}`));
    await producer.disconnect().catch(() => undefined);
    await stack.close().catch((err: unknown) => log(`  cleanup failed: ${(err as Error).message}`));
  }
}
