/**
 * Throughput, latency, memory and the platform's own limits, measured in one run on this machine.
 *
 *   npm run bench -- [--events 1000000] [--rate 5000] [--duration 30] [--seed 1]
 *                    [--stress-ops 200000] [--flat-factor 4] [--skip-flatness] [--skip-latency] [--skip-e2e]
 *                    [--skip-platform] [--skip-verify]
 *   npm run bench -- --only verify [--events 200000] [--seed 1]   (verify and rebuild throughput alone)
 *   npm run bench -- --workers 1,2,3 [--events 200000] [--files 6] [--seed 1]   (scale-out: n stream + n pipeline workers)
 *   npm run bench -- --only hostile-ingest [--hostile-bytes 2G] [--hostile-rounds 1] [--seed 1]   (clean vs hostile export ingest alone)
 *   npm run bench -- --cluster [--events 200000] [--seed 1]   (stage throughputs on the single-node and the cluster stack)
 *   (a full run includes hostile-ingest at --hostile-bytes unless --skip-hostile)
 *
 * Each pipeline size runs in a child process so its CPU and RSS are its own (a process's RSS rarely shrinks,
 * and a small run would otherwise inherit the heap of a big one, or the other way round).
 * Results: bench/results/<timestamp>.json. Targets are reported as PASS/MISS; the exit code ignores them.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCassandraClient } from '../lib/clients/cassandra';
import { createKafka } from '../lib/clients/kafka';
import { config } from '../lib/config';
import { ensureHostilePair, type SizedExport } from './hostile';
import type { HostileIngestResult, IngestRun, IngestTiming } from './hostileIngest';
import { ingestOnce, runHostileIngest, toRun } from './hostileIngest';
import { sampleProcess } from './resources';
import type { LatencyResult } from './latency';
import { runLatency } from './latency';
import type { OrchestratedResult } from './orchestrated';
import { runOrchestrated } from './orchestrated';
import type { PipelineResult } from './pipeline';
import { ensureDataset, runPipeline } from './pipeline';
import type { Limits } from './report';
import { checkHostileTargets, checkTargets, hostileSummary, summaryTable } from './report';
import { cassandraStressWrite, nodeInsertBaseline, producerPerformance } from './platform';
import { WORKER_NODE_FLAGS } from '../lib/workerRuntime';
import type { VerifyBenchResult } from './verify';
import { runVerifyBench, verifySummary } from './verify';
import { runScaleOutOnce, scaleOutSummary, type ScaleOutRun } from './scaleOut';
import { clusterSummary, runTopology } from './clusterCompare';

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function positive(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/** Child mode: one pipeline run, result written as JSON to --out. */
async function child(): Promise<void> {
  const events = positive('events', 1_000_000);
  const seed = positive('seed', 1);
  const data = await ensureDataset(events, seed, log);
  const result = await runPipeline(data, { log, consumerPerf: flag('consumer-perf'), bootstrap: config().kafka.brokers[0] ?? '127.0.0.1:9092' });
  fs.writeFileSync(arg('out', ''), JSON.stringify(result));
}

/** `--hostile-bytes 2G`: a byte count, with an optional K, M or G suffix (powers of 1000). */
function byteSize(name: string, fallback: string): number {
  const text = arg(name, fallback);
  const m = /^(\d+(?:\.\d+)?)([KMG]?)B?$/i.exec(text);
  if (!m) throw new Error(`--${name} must be a size such as 200M or 2G`);
  const v = Math.round(Number(m[1]) * { '': 1, K: 1e3, M: 1e6, G: 1e9 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G']);
  if (v < 1e6) throw new Error(`--${name} must be at least 1M`);
  return v;
}

/** Child mode of hostile-ingest: one export through the ingest, timing written as JSON to --out. */
async function ingestChild(): Promise<void> {
  const timing = await ingestOnce(arg('file', ''), Number(arg('bytes', '0')));
  fs.writeFileSync(arg('out', ''), JSON.stringify(timing));
}

/** One export ingested in a child process with the workers' flags; its CPU and RSS read from /proc. */
function runIngestChild(e: SizedExport): Promise<IngestRun> {
  const out = path.join(os.tmpdir(), `trackflow-hbench-${process.pid}-${e.hostile ? 'hostile' : 'clean'}.json`);
  const args = [...WORKER_NODE_FLAGS, '--import', 'tsx', __filename, '--ingest-child', '--file', e.file, '--bytes', String(e.bytes), '--out', out];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const sampler = p.pid === undefined ? undefined : sampleProcess(p.pid);
    p.on('error', reject);
    p.on('close', (code) => {
      // The child is gone by now: the figures end at its last 100 ms sample.
      const usage = sampler?.stop();
      if (code !== 0 || !usage) return reject(new Error(`ingest of ${e.file} exited with ${code}`));
      try {
        resolve(toRun(JSON.parse(fs.readFileSync(out, 'utf8')) as IngestTiming, usage));
      } catch (err) {
        reject(err as Error);
      } finally {
        fs.rmSync(out, { force: true });
      }
    });
  });
}

async function hostileStage(seed: number): Promise<HostileIngestResult> {
  const bytes = byteSize('hostile-bytes', '2G');
  const pair = await ensureHostilePair(path.join(os.tmpdir(), 'trackflow-bench'), bytes, seed, log);
  const rounds = Math.round(positive('hostile-rounds', 1));
  log(`== hostile ingest: ${bytes} bytes, ${rounds} round(s) of clean and hostile`);
  return runHostileIngest(pair, { seed, rounds, log, runChild: runIngestChild });
}

/** `--only hostile-ingest`: clean against hostile export, written to bench/results like a full run. */
async function hostileOnly(): Promise<void> {
  const started = new Date();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const loadAvgAtStart = os.loadavg();
  const h = await hostileStage(Math.round(positive('seed', 1)));
  const checks = checkHostileTargets(h);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}-hostile.json`);
  const result = { startedAt: started.toISOString(), finishedAt: new Date().toISOString(), command, cpus: os.cpus().length, loadAvgAtStart, loadAvgAtEnd: os.loadavg(), hostileIngest: h, targets: checks };
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const targets = checks.map((c) => `${c.pass === null ? 'n/a ' : c.pass ? 'PASS' : 'MISS'}  ${c.target}: ${c.measured}`).join('\n');
  process.stdout.write(`\n${hostileSummary(h)}\n\n${targets}\n\nresults: ${path.relative(process.cwd(), file)}\n`);
}

function runChild(events: number, seed: number, consumerPerf: boolean, env?: NodeJS.ProcessEnv): Promise<PipelineResult> {
  const out = path.join(os.tmpdir(), `trackflow-bench-${process.pid}-${events}.json`);
  // Stage processes run with the workers' flags, so their RSS is what a worker's would be.
  const args = [...WORKER_NODE_FLAGS, '--import', 'tsx', __filename, '--child', '--events', String(events), '--seed', String(seed), '--out', out];
  if (consumerPerf) args.push('--consumer-perf');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: env ?? process.env });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`pipeline run N=${events} exited with ${code}`));
      try {
        resolve(JSON.parse(fs.readFileSync(out, 'utf8')) as PipelineResult);
      } catch (err) {
        reject(err as Error);
      } finally {
        fs.rmSync(out, { force: true });
      }
    });
  });
}

async function platformLimits(main: PipelineResult, stressOps: number): Promise<Limits> {
  const cfg = config();
  const bootstrap = cfg.kafka.brokers[0] ?? '127.0.0.1:9092';
  const limits: Limits = { consumerPerformance: main.consumerPerformance };

  const topic = `trackflow.bench.perf.${crypto.randomBytes(4).toString('hex')}`;
  const kafka = createKafka(cfg.kafka, 'bench');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: cfg.kafka.partitions }], waitForLeaders: true });
    log(`ProducerPerformance: ${main.publish.items} records of ${main.message.avgRecordBytes} B to ${topic} (${cfg.kafka.partitions} partitions)`);
    limits.producerPerformance = await producerPerformance(
      { topic, records: main.publish.items, recordSize: main.message.avgRecordBytes, bootstrap },
      log,
    );
    log(`  ${limits.producerPerformance.recordsPerSecond} records/s`);
  } catch (err) {
    limits.producerPerformance = { error: (err as Error).message };
    log(`  ProducerPerformance failed: ${(err as Error).message}`);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }

  const cassandra = createCassandraClient(cfg.cassandra, { as: 'admin' });
  await cassandra.connect();
  try {
    const [host, port] = (cfg.cassandra.contactPoints[0] ?? '127.0.0.1:9042').split(':');
    log(`cassandra-stress write n=${stressOps} threads=32`);
    limits.cassandra = await cassandraStressWrite({ ops: stressOps, threads: 32, host: host ?? '127.0.0.1', port: Number(port ?? 9042), cassandra, login: cfg.cassandra.admin }, log);
    log(`  ${limits.cassandra.rowsPerSecond} rows/s`);
  } catch (err) {
    limits.cassandraStressError = (err as Error).message;
    log(`  cassandra-stress could not run: ${limits.cassandraStressError}; measuring a Node baseline instead (NOT cassandra-stress)`);
    limits.cassandra = await nodeInsertBaseline(cassandra, stressOps, log).catch((e: unknown) => ({ error: (e as Error).message }));
  } finally {
    await cassandra.shutdown();
  }
  return limits;
}

/** `--only verify`: verify and rebuild throughput, written to bench/results like a full run. */
async function verifyOnly(): Promise<void> {
  const events = Math.round(positive('events', 1_000_000));
  const seed = Math.round(positive('seed', 1));
  const started = new Date();
  const result = await runVerifyBench(await ensureDataset(events, seed, log), { log });
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}-verify.json`);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  fs.writeFileSync(file, JSON.stringify({ startedAt: started.toISOString(), command, cpus: os.cpus().length, loadAvg: os.loadavg(), verify: result }, null, 2) + '\n');
  process.stdout.write(`\n${verifySummary(result)}\n\nresults: ${path.relative(process.cwd(), file)}\n`);
}

/** `--workers 1,2,3`: end-to-end throughput with n pipeline and n stream worker processes, for each n. */
async function workersOnly(): Promise<void> {
  const counts = arg('workers', '').split(',').map(Number);
  if (!counts.length || counts.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) throw new Error('--workers takes a list of counts from 1 to 8, e.g. 1,2,3');
  const events = Math.round(positive('events', 200_000));
  const files = Math.round(positive('files', 6));
  const seed = Math.round(positive('seed', 1));
  const started = new Date();
  const loadAvgAtStart = os.loadavg();
  log(`trackflow bench --workers ${counts.join(',')}: ${events} events in ${files} files; ${os.cpus().length} CPUs, load ${loadAvgAtStart.map((x) => x.toFixed(1)).join(' ')} (shared, noisy)`);
  const runs: ScaleOutRun[] = [];
  for (const n of counts) {
    log(`== ${n} stream + ${n} pipeline worker(s)`);
    runs.push(await runScaleOutOnce(n, { events, files, seed, log }));
  }
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}-workers.json`);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  fs.writeFileSync(file, JSON.stringify({ startedAt: started.toISOString(), command, cpus: os.cpus().length, loadAvgAtStart, loadAvgAtEnd: os.loadavg(), runs }, null, 2) + '\n');
  process.stdout.write(`\n${scaleOutSummary(runs)}\n\nresults: ${path.relative(process.cwd(), file)}\n`);
}

/**
 * `--cluster`: the stage throughputs on the single-node stack, then on the cluster (RF 3, LOCAL_QUORUM,
 * acks=all, min.insync.replicas 2), same N and seed; the stack is switched in between (bench/clusterCompare.ts).
 */
async function clusterOnly(): Promise<void> {
  const events = Math.round(positive('events', 200_000));
  const seed = Math.round(positive('seed', 1));
  const started = new Date();
  const loadAvgAtStart = os.loadavg();
  log(`trackflow bench --cluster: N=${events}; ${os.cpus().length} CPUs, load ${loadAvgAtStart.map((x) => x.toFixed(1)).join(' ')} (shared, noisy)`);
  await ensureDataset(events, seed, log);
  const stages = (env: NodeJS.ProcessEnv) => runChild(events, seed, false, env);
  const single = await runTopology('single', stages, log);
  const cluster = await runTopology('cluster', stages, log);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}-cluster.json`);
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  const result = { startedAt: started.toISOString(), finishedAt: new Date().toISOString(), command, cpus: os.cpus().length, loadAvgAtStart, loadAvgAtEnd: os.loadavg(), single, cluster };
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\n${clusterSummary(single, cluster)}\n\nresults: ${path.relative(process.cwd(), file)}\n`);
}

const USAGE = `npm run bench -- [--events 1000000] [--rate 5000] [--duration 30] [--seed 1]
                 [--stress-ops 200000] [--flat-factor 4] [--skip-flatness] [--skip-latency] [--skip-e2e]
                 [--skip-platform] [--skip-verify] [--skip-hostile] [--hostile-bytes 2G] [--hostile-rounds 1]
npm run bench -- --only verify [--events 200000] [--seed 1]
npm run bench -- --only hostile-ingest [--hostile-bytes 2G] [--hostile-rounds 1] [--seed 1]
npm run bench -- --workers 1,2,3 [--events 200000] [--files 6] [--seed 1]
npm run bench -- --cluster [--events 200000] [--seed 1]
Results: bench/results/<timestamp>.json (bench/README.md describes each part).
`;

async function main(): Promise<void> {
  if (flag('help')) {
    process.stdout.write(USAGE);
    return;
  }
  if (arg('workers', '') !== '') return workersOnly();
  if (flag('cluster')) return clusterOnly();
  if (arg('only', '') === 'verify') return verifyOnly();
  if (arg('only', '') === 'hostile-ingest') return hostileOnly();
  if (arg('only', '') !== '') throw new Error('--only takes: verify, hostile-ingest');
  const events = Math.round(positive('events', 1_000_000));
  const rate = positive('rate', 5000);
  const duration = positive('duration', 30);
  const seed = Math.round(positive('seed', 1));
  const stressOps = Math.round(positive('stress-ops', 200_000));
  // RSS must not grow with N: the pipeline runs again at flat-factor x N (4N by default) in its own process.
  const flatFactor = positive('flat-factor', 4);
  const flatEvents = Math.max(1000, Math.round(events * flatFactor));
  const started = new Date();
  const loadAvgAtStart = os.loadavg();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  log(`trackflow bench: N=${events}, flatness at ${flatEvents}, latency ${rate}/s for ${duration} s; ${os.cpus().length} CPUs, load ${loadAvgAtStart.map((x) => x.toFixed(1)).join(' ')} (shared, noisy)`);

  // Generated up front so neither pipeline run pays for it.
  await ensureDataset(events, seed, log);
  if (!flag('skip-flatness')) await ensureDataset(flatEvents, seed, log);

  log(`== pipeline N = ${events}`);
  const mainRun = await runChild(events, seed, !flag('skip-platform'));
  let flatRun: PipelineResult | undefined;
  if (!flag('skip-flatness')) {
    log(`== pipeline N = ${flatEvents} (flatness)`);
    flatRun = await runChild(flatEvents, seed, false);
  }

  let latency: LatencyResult | undefined;
  if (!flag('skip-latency')) {
    log(`== latency: ${rate} events/s for ${duration} s`);
    latency = await runLatency({ rate, durationSeconds: duration, log });
    log(`  p50 ${latency.p50Ms} ms, p95 ${latency.p95Ms} ms, p99 ${latency.p99Ms} ms (achieved ${latency.achievedRate}/s)`);
  }

  let e2e: OrchestratedResult | undefined;
  if (!flag('skip-e2e')) {
    log(`== end to end through the Temporal workers: N = ${events}`);
    e2e = await runOrchestrated(await ensureDataset(events, seed, log), { log });
    log(`  ${e2e.consumed} events in ${e2e.seconds} s = ${e2e.eventsPerSecond}/s; pipeline worker peak ${e2e.workers.pipeline.rssPeakMb} MB, stream worker peak ${e2e.workers.stream.rssPeakMb} MB`);
  }

  let verifyRun: VerifyBenchResult | undefined;
  if (!flag('skip-verify')) {
    log(`== verify and rebuild: N = ${events}`);
    verifyRun = await runVerifyBench(await ensureDataset(events, seed, log), { log });
  }

  let hostile: HostileIngestResult | undefined;
  if (!flag('skip-hostile')) hostile = await hostileStage(seed);

  let limits: Limits = {};
  if (!flag('skip-platform')) {
    log('== platform limits');
    limits = await platformLimits(mainRun, stressOps);
  }

  const checks = [...checkTargets(mainRun, flatRun, latency, limits, e2e), ...(hostile ? checkHostileTargets(hostile) : [])];
  const result = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    command,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAvgAtStart,
      loadAvgAtEnd: os.loadavg(),
      note: 'shared 2-core machine, servers on the same host: numbers are noisy',
    },
    params: { events, flatnessEvents: flatRun ? flatEvents : null, rate, duration, seed, stressOps },
    pipeline: mainRun,
    flatness: flatRun
      ? { run: flatRun, rssPeakMbMain: mainRun.endToEnd.rssPeakMb, rssPeakMbFlatRun: flatRun.endToEnd.rssPeakMb, ratio: flatRun.endToEnd.rssPeakMb / mainRun.endToEnd.rssPeakMb }
      : null,
    latency,
    endToEndWorkers: e2e,
    verify: verifyRun,
    hostileIngest: hostile,
    limits,
    targets: checks,
  };
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  const verifyText = (verifyRun ? `\n\n${verifySummary(verifyRun)}` : '') + (hostile ? `\n\n${hostileSummary(hostile)}` : '');
  process.stdout.write(`\n${summaryTable(mainRun, flatRun, latency, limits, checks, e2e)}${verifyText}\n\nresults: ${path.relative(process.cwd(), file)}\n`);
}

(flag('child') ? child() : flag('ingest-child') ? ingestChild() : main()).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
