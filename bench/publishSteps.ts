import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { types } from 'cassandra-driver';
import type { Message } from 'kafkajs';
import { compress as zstd } from '@mongodb-js/zstd';
import { CompressionTypes } from 'kafkajs';
import { openTestStack } from '../test/support/env';
import { encodeMessage, messageKey, toMessage } from '../lib/domain/message';
import { ingestFileCore, QUEUE_CHUNK_LINES } from '../lib/ingest/ingest';
import { ensureTopic } from '../lib/kafka/topics';
import { partitionForEvent } from '../lib/publish/partition';
import { publishPendingCore, queueRowFields } from '../lib/publish/publisher';
import type { Dataset } from './pipeline';
import type { Log } from './platform';

const gzip = promisify(zlib.gzip);

export interface StepTiming {
  step: string;
  seconds: number;
  perSecond: number;
  cpuSeconds: number;
}

async function timed<T>(step: string, items: number, fn: () => Promise<T>, out: StepTiming[], log: Log): Promise<T> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const t: StepTiming = { step, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(items / seconds), cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)) };
  out.push(t);
  log(`  ${step.padEnd(44)} ${t.seconds.toFixed(2).padStart(7)} s ${String(t.perSecond).padStart(9)} /s  CPU ${t.cpuSeconds} s`);
  return result;
}

/**
 * Times each step of publishing in isolation (page reads, message building, gzip, Kafka round trips, progress
 * writes), then the real publishPendingCore on the same lake, to show where the publisher's time goes.
 */
export async function profilePublishSteps(data: Dataset, opts: { pageSize: number; log: Log }): Promise<StepTiming[]> {
  const { log, pageSize } = opts;
  const stack = await openTestStack('benchpub');
  const { deps, config: cfg } = stack;
  const ks = cfg.cassandra.keyspace;
  const steps: StepTiming[] = [];
  const producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  try {
    log(`ingesting ${data.events} rows into ${ks}`);
    const ig = await ingestFileCore({ cassandra: deps.cassandra, keyspace: ks }, { path: data.trackingFile });
    const batch = ig.ingestBatch;
    const maxChunk = Math.floor((ig.rowsRead + 1) / QUEUE_CHUNK_LINES);
    const scratch = `${cfg.kafka.topic}.steps`;
    const partitions = await ensureTopic(deps.kafka, scratch, cfg.kafka.partitions);
    await producer.connect();
    const q =
      `SELECT seq, create_time, job_id, custom_track, bid, campaign_id, group_id, publisher_id ` +
      `FROM ${ks}.publish_queue WHERE ingest_batch = ? AND chunk = ? AND seq >= ?`;

    const pages = await timed('1. Cassandra page reads (serial)', ig.written, async () => {
      const out: types.Row[][] = [];
      for (let chunk = 0; chunk <= maxChunk; chunk++) {
        let state: string | undefined;
        do {
          const rs = await deps.cassandra.execute(q, [batch, chunk, 0], { prepare: true, fetchSize: pageSize, pageState: state });
          state = rs.pageState ?? undefined;
          if (rs.rows.length) out.push(rs.rows);
        } while (state);
      }
      return out;
    }, steps, log);

    const built = await timed('2. toMessage + JSON encode (with pub)', ig.written, async () =>
      pages.map((rows) =>
        rows.map((row): Message => {
          const m = { ...toMessage(queueRowFields(row)), pub: `${batch}:${String(row['seq'])}` };
          const key = messageKey(m);
          return {
            key,
            value: encodeMessage(m),
            partition: key === null ? partitionForEvent(m.event_id, partitions) : undefined,
          };
        }),
      ), steps, log);

    await timed('3. gzip of page values (zlib, serial)', ig.written, async () => {
      for (const msgs of built) await gzip(Buffer.from(msgs.map((m) => m.value as string).join('')));
    }, steps, log);

    await timed('3b. zstd of page values (level 3, serial)', ig.written, async () => {
      for (const msgs of built) await zstd(Buffer.from(msgs.map((m) => m.value as string).join('')), 3);
    }, steps, log);

    await timed('4a. Kafka send, gzip, acks=all, 1 in flight', ig.written, async () => {
      for (const messages of built) await producer.send({ topic: scratch, messages, acks: -1, compression: CompressionTypes.GZIP });
    }, steps, log);

    await timed('4c. Kafka send, zstd, acks=all, 1 in flight', ig.written, async () => {
      for (const messages of built) await producer.send({ topic: scratch, messages, acks: -1, compression: CompressionTypes.ZSTD });
    }, steps, log);

    await timed('4b. Kafka send, no compression, acks=all', ig.written, async () => {
      for (const messages of built) await producer.send({ topic: scratch, messages, acks: -1 });
    }, steps, log);

    await timed('5. progress row writes (one per page)', built.length, async () => {
      for (let i = 0; i < built.length; i++) {
        await deps.cassandra.execute(
          `INSERT INTO ${ks}.publish_progress (ingest_batch, next_chunk, next_seq, published, quarantined, pages, completed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ['scratch', 0, i, i, 0, i, false, new Date()],
          { prepare: true },
        );
      }
    }, steps, log);

    await timed('6. publishPendingCore (everything)', ig.written, () =>
      publishPendingCore(
        { cassandra: deps.cassandra, kafka: deps.kafka, keyspace: ks, topic: cfg.kafka.topic, partitions: cfg.kafka.partitions, compression: cfg.kafka.compression },
        { pageSize },
      ), steps, log);

    const admin = deps.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [scratch] }).catch(() => undefined);
    await admin.disconnect();
    return steps;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await stack.close().catch((err: unknown) => log(`  cleanup failed: ${(err as Error).message}`));
  }
}
