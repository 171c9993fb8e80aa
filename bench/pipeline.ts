import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { openTestStack } from '../test/support/env';
import { config } from '../lib/config';
import { writeDataset } from '../lib/domain/generator';
import { encodeMessageAs, messageKey, toMessage } from '../lib/domain/message';
import { ingestFileCore } from '../lib/ingest/ingest';
import { loadJobsCore } from '../lib/ingest/jobCatalogueLoader';
import { publishPendingCore, queueRowFields } from '../lib/publish/publisher';
import { readStreamTotals } from '../lib/stream/commit';
import { runConsumeLease } from '../lib/stream/consumer';
import type { ConsumerPerfResult, Log } from './platform';
import { kafkajsRawConsume } from './kafkaClients';
import { consumerPerformance } from './platform';
import type { StageUsage } from './resources';
import { measureStage } from './resources';
import type { CpuBreakdown } from './processCpu';
import { cpuWindow, perEvent, withServers } from './processCpu';

export interface Dataset {
  dir: string;
  trackingFile: string;
  jobFile: string;
  events: number;
  seed: number;
  bytes: number;
}

/** Same layout as bench/bench-ingest.ts, so either script reuses the other's generated files. */
export async function ensureDataset(events: number, seed: number, log: Log): Promise<Dataset> {
  const dir = path.join(os.tmpdir(), 'trackflow-bench', `${events}-${seed}`);
  const trackingFile = path.join(dir, 'tracking.csv');
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    const t = Date.now();
    log(`generating ${events} rows (seed ${seed}) in ${dir}`);
    await writeDataset(dir, { events, seed, badRate: 0.001, days: 14 });
    log(`  generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  return { dir, trackingFile, jobFile: path.join(dir, 'job.csv'), events, seed, bytes: fs.statSync(trackingFile).size };
}

export interface StageResult {
  items: number;
  perSecond: number;
  usage: StageUsage;
  /** CPU of this stage's process (`stage`) and of each server of the stack over the stage, per item. */
  cpu?: CpuBreakdown;
}

export interface PipelineResult {
  events: number;
  seed: number;
  fileBytes: number;
  ingest: StageResult & { written: number; rejected: number; alreadyPresent: number };
  publish: StageResult & { quarantined: number };
  consume: StageResult & { counted: number; filtered: number; unattributed: number; deadLettered: number; endReason: string };
  /** Ingest start to warehouse caught up, stages run one after the other (not overlapped). */
  endToEnd: { seconds: number; eventsPerSecond: number; cpuSeconds: number; rssPeakMb: number };
  message: { sampled: number; avgValueBytes: number; avgKeyBytes: number; avgHeaderBytes: number; avgRecordBytes: number };
  consumerPerformance?: ConsumerPerfResult | { error: string };
  /** kafkajs alone on the same topic: fetch and JSON.parse, no warehouse work (group join included). */
  kafkajsRawConsume?: { messages: number; seconds: number; perSecond: number } | { error: string };
}

/** Average size of the records the publisher sent, rebuilt from a sample of the publish queue the same way. */
async function sampleMessageSize(cassandra: Client, keyspace: string, ingestBatch: string): Promise<PipelineResult['message']> {
  const rs = await cassandra.execute(
    `SELECT seq, create_time, job_id, custom_track, bid, campaign_id, group_id, publisher_id FROM ${keyspace}.publish_queue ` +
      `WHERE ingest_batch = ? AND chunk = 0 LIMIT 10000`,
    [ingestBatch],
    { prepare: true, fetchSize: 10000 },
  );
  let value = 0;
  let key = 0;
  const headers = 0; // the position travels in the value (`pub`), not in record headers
  let n = 0;
  for (const row of rs.rows) {
    const m = { ...toMessage(queueRowFields(row)), pub: `${ingestBatch}:${String(row['seq'])}` };
    value += Buffer.byteLength(encodeMessageAs(config().kafka.messageVersion, m));
    key += Buffer.byteLength(messageKey(m) ?? '');
    n++;
  }
  const avg = (x: number): number => (n ? Math.round(x / n) : 0);
  return { sampled: n, avgValueBytes: avg(value), avgKeyBytes: avg(key), avgHeaderBytes: avg(headers), avgRecordBytes: avg(value + key + headers) };
}

const rate = (items: number, seconds: number): number => Math.round(items / seconds);

/**
 * CSV -> Cassandra -> Kafka -> MySQL on an isolated keyspace/topic/group/database, one stage after the other,
 * each timed with this process's CPU and RSS. Everything created is dropped at the end.
 */
export async function runPipeline(
  data: Dataset,
  opts: { log: Log; consumerPerf?: boolean; bootstrap: string },
): Promise<PipelineResult> {
  const { log } = opts;
  const stack = await openTestStack('bench');
  const { deps, config: cfg } = stack;
  try {
    await loadJobsCore(deps.mysql, { path: data.jobFile });
    log(`pipeline N=${data.events}: keyspace ${cfg.cassandra.keyspace}, topic ${cfg.kafka.topic}, database ${cfg.mysql.database}`);

    const procs = withServers({ stage: [process.pid] });
    let ingested = 0;
    const ingestCpu = cpuWindow(procs);
    const ingest = await measureStage(
      `ingest N=${data.events}`,
      () =>
        ingestFileCore(
          { cassandra: deps.cassandra, keyspace: cfg.cassandra.keyspace, metrics: deps.metrics },
          { path: data.trackingFile },
          { onProgress: (p) => (ingested = p.rowsRead) },
        ),
      { log, progress: () => `${ingested} rows` },
    );
    const ig = ingest.result;
    const ingestCpuUse = perEvent(ingestCpu.stop(), ig.rowsRead);
    log(`  ingest: ${ig.rowsRead} rows in ${ingest.usage.seconds.toFixed(1)} s = ${rate(ig.rowsRead, ingest.usage.seconds)} rows/s`);

    let published = 0;
    const publishCpu = cpuWindow(procs);
    const publish = await measureStage(
      `publish N=${data.events}`,
      () =>
        publishPendingCore(
          {
            cassandra: deps.cassandra,
            kafka: deps.kafka,
            keyspace: cfg.cassandra.keyspace,
            topic: cfg.kafka.topic,
            partitions: cfg.kafka.partitions,
            compression: cfg.kafka.compression,
            messageVersion: cfg.kafka.messageVersion,
            metrics: deps.metrics,
          },
          { onProgress: (p) => (published = p.totalPublished) },
        ),
      { log, progress: () => `${published} events` },
    );
    const pb = publish.result;
    const publishCpuUse = perEvent(publishCpu.stop(), pb.published);
    log(`  publish: ${pb.published} events in ${publish.usage.seconds.toFixed(1)} s = ${rate(pb.published, publish.usage.seconds)} events/s`);

    let consumed = 0;
    let lag = -1;
    const consumeCpu = cpuWindow(procs);
    const consume = await measureStage(
      `consume N=${data.events}`,
      () =>
        runConsumeLease(deps, {
          leaseMs: 60 * 60_000,
          stopWhenCaughtUp: true,
          heartbeat: (d) => {
            const details = d as { counts?: { consumed?: number }; lag?: number };
            consumed = details.counts?.consumed ?? consumed;
            lag = details.lag ?? lag;
          },
        }),
      { log, progress: () => `${consumed} consumed, lag ${lag}` },
    );
    const consumeCpuTotals = consumeCpu.stop();
    const totals = await readStreamTotals(deps.mysql, cfg.kafka.consumerGroup, cfg.kafka.topic);
    log(`  consume: ${totals.consumed} events in ${consume.usage.seconds.toFixed(1)} s = ${rate(totals.consumed, consume.usage.seconds)} events/s (${consume.result.endReason})`);
    if (totals.consumed !== pb.published) log(`  WARNING: published ${pb.published} but the warehouse consumed ${totals.consumed}`);

    const stages = [ingest.usage, publish.usage, consume.usage];
    const e2eSeconds = stages.reduce((s, u) => s + u.seconds, 0);
    const message = await sampleMessageSize(deps.cassandra, cfg.cassandra.keyspace, ig.ingestBatch);

    const result: PipelineResult = {
      events: data.events,
      seed: data.seed,
      fileBytes: data.bytes,
      ingest: {
        items: ig.rowsRead,
        perSecond: rate(ig.rowsRead, ingest.usage.seconds),
        usage: ingest.usage,
        cpu: ingestCpuUse,
        written: ig.written,
        rejected: ig.rejected,
        alreadyPresent: ig.alreadyPresent,
      },
      publish: { items: pb.published, perSecond: rate(pb.published, publish.usage.seconds), usage: publish.usage, cpu: publishCpuUse, quarantined: pb.quarantined },
      consume: {
        items: totals.consumed,
        perSecond: rate(totals.consumed, consume.usage.seconds),
        usage: consume.usage,
        cpu: perEvent(consumeCpuTotals, totals.consumed),
        counted: totals.counted,
        filtered: totals.filtered,
        unattributed: totals.unattributed,
        deadLettered: totals.deadLettered,
        endReason: consume.result.endReason,
      },
      endToEnd: {
        seconds: Number(e2eSeconds.toFixed(3)),
        eventsPerSecond: rate(totals.consumed, e2eSeconds),
        cpuSeconds: Number(stages.reduce((s, u) => s + u.cpuSeconds, 0).toFixed(2)),
        rssPeakMb: Math.max(...stages.map((u) => u.rssPeakMb)),
      },
      message,
    };

    if (opts.consumerPerf) {
      log(`  kafkajs alone (fetch + JSON.parse) on ${cfg.kafka.topic}`);
      try {
        const { usage } = await measureStage('kafkajs alone', () =>
          kafkajsRawConsume(deps.kafka, cfg.kafka.topic, `${cfg.kafka.consumerGroup}.raw`, pb.published),
        );
        result.kafkajsRawConsume = { messages: pb.published, seconds: usage.seconds, perSecond: rate(pb.published, usage.seconds) };
        log(`    ${result.kafkajsRawConsume.perSecond} msgs/s`);
      } catch (err) {
        result.kafkajsRawConsume = { error: (err as Error).message };
      }
      log(`  ConsumerPerformance on ${cfg.kafka.topic} (${pb.published} messages)`);
      try {
        result.consumerPerformance = await consumerPerformance({ topic: cfg.kafka.topic, messages: pb.published, bootstrap: opts.bootstrap, kafka: cfg.kafka }, log);
      } catch (err) {
        result.consumerPerformance = { error: (err as Error).message };
        log(`  ConsumerPerformance failed: ${(err as Error).message}`);
      }
    }
    return result;
  } finally {
    await stack.close().catch((err: unknown) => log(`  cleanup failed: ${(err as Error).message}`));
  }
}
