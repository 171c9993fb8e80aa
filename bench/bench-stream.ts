/**
 * Stream throughput: produce N contract messages (realistic mix) to a fresh 6-partition topic, then time one
 * consumeLease from the beginning to caught-up, against the real Kafka and MySQL.
 *
 *   npx tsx bench/bench-stream.ts [--messages 1000000] [--chunk 5000] [--keep] [--consumer-perf]
 *                                 [--message-version 1|2] [--compression zstd|gzip|none]
 *
 * The messages are written as the publisher writes them (TRACKFLOW_KAFKA_MESSAGE_VERSION and
 * TRACKFLOW_KAFKA_COMPRESSION) unless the flags say otherwise.
 *
 * --consumer-perf also runs Kafka's ConsumerPerformance on the same topic (needs java and the Kafka jars).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ActivityDeps } from '../activities/deps';
import { createKafka } from '../lib/clients/kafka';
import { createMysqlAdminPool, createMysqlPool } from '../lib/clients/mysql';
import { config } from '../lib/config';
import type { TrackingMessageV1 } from '../lib/domain/message';
import { encodeMessageAs, messageKey } from '../lib/domain/message';
import type { MessageVersion } from '../lib/domain/message';
import { compressionType } from '../lib/clients/kafkaCodecs';
import type { KafkaCompression } from '../lib/envSchema';
import { KAFKA_COMPRESSIONS } from '../lib/envSchema';
import { makeTimeUuid } from '../lib/domain/timeuuid';
import { mulberry32 } from '../lib/domain/random';
import { migrateMysql } from '../lib/migrate/mysql';
import { Metrics } from '../lib/metrics';
import { readStreamTotals } from '../lib/stream/commit';
import { runConsumeLease } from '../lib/stream/consumer';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const BIDS = [0.5, 1, 1.25, 2, 2.5, 0.75];
const OTHER = ['alive', 'redirect', 'superpixel', 'interview_scheduled', null];

/** ~35% countable (counted action with a job), ~10% counted action without a job, ~55% other actions. */
function makeMessage(r: () => number, i: number): { msg: TrackingMessageV1; countable: boolean } {
  const u = r();
  const start = Date.UTC(2022, 6, 8);
  const millis = start + Math.floor(r() * 72 * 3_600_000);
  const id = makeTimeUuid(millis, i % 10_000, i, '00163e5a0b01');
  let track: string | null;
  let job: number | null;
  if (u < 0.35) {
    const a = r();
    track = a < 0.7 ? 'click' : a < 0.82 ? 'conversion' : a < 0.91 ? 'qualified' : 'unqualified';
    job = 1 + Math.floor(r() * 5000);
  } else if (u < 0.45) {
    track = r() < 0.8 ? 'click' : 'conversion';
    job = null;
  } else {
    track = OTHER[Math.floor(r() * OTHER.length)] ?? null;
    job = r() < 0.3 ? 1 + Math.floor(r() * 5000) : null;
  }
  const attributed = job !== null;
  const msg: TrackingMessageV1 = {
    v: 1,
    event_id: id,
    ts: new Date(millis).toISOString(),
    job_id: job,
    custom_track: track,
    bid: attributed ? (BIDS[Math.floor(r() * BIDS.length)] as number) : null,
    // A job belongs to one campaign and (usually) one group; a handful of publishers carry it.
    campaign_id: attributed ? 1 + ((job as number) % 100) : null,
    group_id: attributed && r() < 0.6 ? (job as number) % 11 : null,
    publisher_id: attributed ? 1 + Math.floor(r() * 5) : null,
  };
  return { msg, countable: u < 0.35 };
}

async function main(): Promise<void> {
  const total = Number(arg('messages', '1000000'));
  const chunkSize = Number(arg('chunk', '5000'));
  const base = config();
  const version = Number(arg('message-version', String(base.kafka.messageVersion))) as MessageVersion;
  if (version !== 1 && version !== 2) throw new Error('--message-version must be 1 or 2');
  const compressionName = arg('compression', base.kafka.compression) as KafkaCompression;
  if (!KAFKA_COMPRESSIONS.includes(compressionName)) throw new Error(`--compression must be one of ${KAFKA_COMPRESSIONS.join(', ')}`);
  const id = `${Date.now().toString(36)}${process.pid}`;
  const cfg = {
    ...base,
    kafka: { ...base.kafka, topic: `trackflow.bench.${id}`, deadLetterTopic: `trackflow.bench.${id}.dlq`, consumerGroup: `trackflow-bench-${id}`, partitions: 6 },
    mysql: { ...base.mysql, database: `trackflow_t_bench_${id}` },
  };
  const admin = createMysqlAdminPool(cfg.mysql);
  await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
  const mysql = createMysqlPool(cfg.mysql, { connectionLimit: 10 });
  const kafka = createKafka(cfg.kafka, 'bench');
  const kadmin = kafka.admin();
  await kadmin.connect();
  await kadmin.createTopics({ topics: [{ topic: cfg.kafka.topic, numPartitions: 6 }], waitForLeaders: true });

  // 80% of the jobs exist in the dimension; the rest are "unknown job" rows.
  const jobs: Array<[number, number, string]> = [];
  for (let j = 1; j <= 4000; j++) jobs.push([j, 1 + (j % 300), '2022-07-01 00:00:00']);
  await mysql.query('INSERT INTO job (id, company_id, updated_at) VALUES ?', [jobs]);

  const r = mulberry32(42);
  let countable = 0;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const tp = Date.now();
  const sendBatch = 20_000;
  for (let i = 0; i < total; i += sendBatch) {
    const messages = [];
    for (let k = i; k < Math.min(total, i + sendBatch); k++) {
      const { msg, countable: c } = makeMessage(r, k);
      if (c) countable += 1;
      messages.push({ key: messageKey(msg), value: encodeMessageAs(version, msg) });
    }
    await producer.send({ topic: cfg.kafka.topic, acks: 1, messages, compression: compressionType(compressionName) });
  }
  await producer.disconnect();
  const produceSeconds = (Date.now() - tp) / 1000;
  console.log(`produced ${total} messages (${countable} countable, v${version}, ${compressionName}) in ${produceSeconds.toFixed(1)} s`);

  const metrics = new Metrics();
  const deps: ActivityDeps = { cassandra: undefined as never, kafka, mysql, config: cfg, metrics };
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const summary = await runConsumeLease(deps, { leaseMs: 900_000, stopWhenCaughtUp: true, chunkSize, pollMs: 100 });
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const consumeCpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  const totals = await readStreamTotals(mysql, cfg.kafka.consumerGroup, cfg.kafka.topic);
  const [[rowCount]] = (await mysql.query('SELECT COUNT(*) n FROM events', [])) as unknown as [[{ n: number }]];
  const result = {
    messages: total,
    messageVersion: version,
    compression: compressionName,
    chunkSize,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(total / seconds),
    // This process only (MySQL and Kafka excluded): the consumer's own cost, steadier than wall time on a loaded box.
    consumeCpuSeconds: Number(consumeCpuSeconds.toFixed(2)),
    cpuMicrosPerEvent: Number(((consumeCpuSeconds * 1e6) / total).toFixed(1)),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    endReason: summary.endReason,
    batches: summary.counts.batches,
    totals,
    expectedCounted: countable,
    warehouseRows: rowCount.n,
    meanBatchSeconds: meanOf(await metrics.render(), 'trackflow_stream_batch_seconds'),
    host: `${os.cpus().length} CPU, node ${process.version}`,
  };
  console.log(JSON.stringify(result, null, 2));
  if (totals.consumed !== total || totals.counted !== countable) {
    console.error('MISMATCH between produced and committed totals');
    process.exitCode = 1;
  }

  if (process.argv.includes('--consumer-perf')) {
    const libs = [path.join(os.homedir(), '.cache/trackflow'), '/tmp/probe/kafka']
      .flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).map((x) => path.join(d, x, 'lib')).concat(path.join(d, 'lib')) : []))
      .filter((d) => fs.existsSync(d));
    const lib = libs[0];
    if (!lib) console.log('ConsumerPerformance: no Kafka lib directory found');
    else {
      const out = execFileSync('java', [
        '-cp', `${lib}/*`, 'org.apache.kafka.tools.ConsumerPerformance',
        '--bootstrap-server', cfg.kafka.brokers[0] ?? '127.0.0.1:9092', '--topic', cfg.kafka.topic,
        '--messages', String(total), '--timeout', '60000',
      ], { encoding: 'utf8' });
      console.log(`ConsumerPerformance (${lib}):\n${out}`);
    }
  }

  if (!process.argv.includes('--keep')) {
    await kadmin.deleteTopics({ topics: [cfg.kafka.topic, cfg.kafka.deadLetterTopic] }).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
  } else {
    console.log(`kept topic ${cfg.kafka.topic} and database ${cfg.mysql.database}`);
  }
  await kadmin.disconnect();
  await mysql.end();
  await admin.end();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** Mean of a histogram from its _sum and _count lines. */
function meanOf(text: string, name: string): number | undefined {
  const sum = Number(new RegExp(`^${name}_sum (\\S+)$`, 'm').exec(text)?.[1]);
  const count = Number(new RegExp(`^${name}_count (\\S+)$`, 'm').exec(text)?.[1]);
  return count > 0 ? sum / count : undefined;
}
