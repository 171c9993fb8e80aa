import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { config, kafkaFor, type KafkaConfig } from '../lib/config';
import { javaClientProperties } from '../lib/clients/kafka';
import { cacheDir } from '../lib/stack/paths';
import { VERSIONS } from '../lib/stack/versions';

export type Log = (line: string) => void;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command, echoing stdout lines that `echo` selects, so long tools show progress. */
function run(cmd: string, args: string[], opts: { cwd?: string; echo?: (line: string) => boolean; log?: Log; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs) : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (opts.echo?.(l)) opts.log?.(`    ${l.trim()}`);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export function kafkaLibDir(): string {
  return path.join(cacheDir(), `kafka-${VERSIONS.kafka}`, 'lib');
}

export interface ProducerPerfResult {
  tool: 'org.apache.kafka.tools.ProducerPerformance';
  command: string;
  records: number;
  recordSize: number;
  recordsPerSecond: number;
  mbPerSecond: number;
  avgLatencyMs: number;
  maxLatencyMs: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
}

export async function producerPerformance(
  opts: { topic: string; records: number; recordSize: number; bootstrap: string },
  log: Log,
): Promise<ProducerPerfResult> {
  // compression.type is trackflow's own (TRACKFLOW_KAFKA_COMPRESSION), so the ratio compares like with like.
  // The benchmark's own Kafka user (trackflow.bench.* topics), from a 0600 file, not the command line.
  const client = javaClientProperties(kafkaFor(config().kafka, 'bench'));
  const args = [
    '-cp', `${kafkaLibDir()}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', opts.topic, '--num-records', String(opts.records), '--record-size', String(opts.recordSize),
    '--throughput', '-1', '--producer.config', client.file,
    '--producer-props', `bootstrap.servers=${opts.bootstrap}`, `compression.type=${config().kafka.compression}`, 'acks=all',
  ];
  const res = await run('java', args, { log, echo: (l) => /records sent/.test(l), timeoutMs: 30 * 60_000 }).finally(() => client.dispose());
  const re =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency(?:, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th)?/g;
  const last = [...res.stdout.matchAll(re)].pop();
  if (res.code !== 0 || !last) throw new Error(`ProducerPerformance failed (exit ${res.code}):\n${tail(res.stderr || res.stdout)}`);
  return {
    tool: 'org.apache.kafka.tools.ProducerPerformance',
    command: `java ${args.map((a) => (a.includes('*') ? `"${a}"` : a)).join(' ')}`,
    records: Number(last[1]),
    recordSize: opts.recordSize,
    recordsPerSecond: Number(last[2]),
    mbPerSecond: Number(last[3]),
    avgLatencyMs: Number(last[4]),
    maxLatencyMs: Number(last[5]),
    p50Ms: last[6] ? Number(last[6]) : undefined,
    p95Ms: last[7] ? Number(last[7]) : undefined,
    p99Ms: last[8] ? Number(last[8]) : undefined,
  };
}

export interface ConsumerPerfResult {
  tool: 'org.apache.kafka.tools.ConsumerPerformance';
  command: string;
  messages: number;
  mb: number;
  /** Over the whole run, group join (rebalance) included. */
  messagesPerSecond: number;
  /** Over the fetch time only, rebalance excluded. */
  fetchMessagesPerSecond: number;
  rebalanceMs: number;
  fetchMs: number;
}

/**
 * Kafka's own consumer over `topic`, logged in as `kafka` says: the login that created the topic can read it
 * (the pipeline run's topic is a test topic, which the bench user may not read).
 */
export async function consumerPerformance(
  opts: { topic: string; messages: number; bootstrap: string; kafka: KafkaConfig },
  log: Log,
): Promise<ConsumerPerfResult> {
  const client = javaClientProperties(opts.kafka);
  const args = [
    '-cp', `${kafkaLibDir()}/*`, 'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server', opts.bootstrap, '--topic', opts.topic, '--messages', String(opts.messages),
    '--group', `trackflow-bench-perf-${crypto.randomBytes(4).toString('hex')}`, '--timeout', '60000',
    '--consumer.config', client.file,
  ];
  const res = await run('java', args, { log, timeoutMs: 30 * 60_000 }).finally(() => client.dispose());
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const row = res.stdout
    .split('\n')
    .map((l) => l.split(',').map((x) => x.trim()))
    .filter((c) => c.length >= 10 && /^\d/.test(c[4] ?? ''))
    .pop();
  if (res.code !== 0 || !row) throw new Error(`ConsumerPerformance failed (exit ${res.code}):\n${tail(res.stderr || res.stdout)}`);
  return {
    tool: 'org.apache.kafka.tools.ConsumerPerformance',
    command: `java ${args.map((a) => (a.includes('*') ? `"${a}"` : a)).join(' ')}`,
    messages: Number(row[4]),
    mb: Number(row[2]),
    messagesPerSecond: Number(row[5]),
    fetchMessagesPerSecond: Number(row[9]),
    rebalanceMs: Number(row[6]),
    fetchMs: Number(row[7]),
  };
}

const STRESS_VERSION = '4.0-alpha2';

/**
 * Cassandra 5's stress tool is not on Maven Central; the 4.0-alpha2 binary tarball is, and its stress.jar
 * speaks the native protocol to a 5.0 server. Downloaded once into the cache and unpacked next to it.
 */
export async function ensureCassandraStress(log: Log): Promise<string> {
  const base = path.join(cacheDir(), 'cassandra-stress');
  const home = path.join(base, `apache-cassandra-${STRESS_VERSION}`);
  if (fs.existsSync(path.join(home, 'tools', 'lib', 'stress.jar'))) return home;
  const tarball = path.join(base, `apache-cassandra-${STRESS_VERSION}-bin.tar.gz`);
  if (!fs.existsSync(tarball)) {
    log(`  downloading apache-cassandra-${STRESS_VERSION}-bin.tar.gz with mvn (cached in ${base})`);
    const res = await run('mvn', [
      '-q', 'dependency:copy',
      `-Dartifact=org.apache.cassandra:apache-cassandra:${STRESS_VERSION}:tar.gz:bin`,
      `-DoutputDirectory=${base}`,
      `-Dmaven.repo.local=${path.join(cacheDir(), 'm2')}`,
    ], { timeoutMs: 20 * 60_000 });
    if (res.code !== 0 || !fs.existsSync(tarball)) throw new Error(`mvn dependency:copy failed (exit ${res.code}):\n${tail(res.stdout + res.stderr)}`);
  }
  // Unpack into a temporary directory and rename, so an interrupted unpack is never taken for a complete one.
  const tmp = fs.mkdtempSync(path.join(base, '.unpack-'));
  const res = await run('tar', ['-xzf', tarball, '-C', tmp]);
  if (res.code !== 0) throw new Error(`tar failed: ${tail(res.stderr)}`);
  fs.renameSync(path.join(tmp, `apache-cassandra-${STRESS_VERSION}`), home);
  fs.rmSync(tmp, { recursive: true, force: true });
  return home;
}

export interface StressResult {
  tool: 'cassandra-stress';
  version: string;
  command: string;
  ops: number;
  opsPerSecond: number;
  rowsPerSecond: number;
  latencyMeanMs: number;
  latencyP99Ms: number;
  errors: number;
}

/** Java 17 closes the JDK internals that the 4.0 code base (netty, jamm, chronicle) reaches into. */
const JDK17_FLAGS = [
  '--add-exports', 'java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports', 'java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens', 'java.base/java.nio=ALL-UNNAMED',
  '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '--add-opens', 'java.base/java.io=ALL-UNNAMED',
  '--add-opens', 'java.base/java.util=ALL-UNNAMED',
];

/**
 * The stress tool takes its login only as `user=` and `password=` arguments. They go into a Java argument file
 * (mode 0600, deleted after the run) instead of the command line, and the password is cut out of everything
 * the tool prints before any of it is logged.
 */
export async function cassandraStressWrite(
  opts: { ops: number; threads: number; host: string; port: number; cassandra: Client; login?: { username: string; password: string } },
  log: Log,
): Promise<StressResult> {
  const home = await ensureCassandraStress(log);
  const keyspace = `trackflow_bench_stress_${crypto.randomBytes(4).toString('hex')}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-stress-'));
  const stressArgs = [
    'write', `n=${opts.ops}`, '-rate', `threads=${opts.threads}`,
    '-node', opts.host, '-port', `native=${opts.port}`, '-mode', 'native', 'cql3',
    '-schema', `keyspace=${keyspace}`, 'replication(factor=1)',
  ];
  const login = opts.login ? [`user=${opts.login.username}`, `password=${opts.login.password}`] : [];
  // The main class and its arguments go into the file; the launcher expands it in place (JDK 9+ @argfiles).
  const argFile = path.join(work, 'stress.args');
  const stressMain = ['org.apache.cassandra.stress.Stress', ...stressArgs.slice(0, stressArgs.indexOf('cql3') + 1), ...login, ...stressArgs.slice(stressArgs.indexOf('cql3') + 1)];
  fs.writeFileSync(argFile, stressMain.map(javaArgFileQuote).join('\n') + '\n', { mode: 0o600 });
  const javaArgs = [
    '-server', '-cp', [`${home}/lib/*`, `${home}/tools/lib/*`, `${home}/conf`].join(path.delimiter),
    ...JDK17_FLAGS,
    `-Dcassandra.storagedir=${work}`, '-Dlogback.configurationFile=logback-tools.xml',
    `@${argFile}`,
  ];
  const redact = (text: string): string => (opts.login?.password ? text.split(opts.login.password).join('***') : text);
  try {
    const raw = await run('java', javaArgs, { cwd: work, log, echo: (l) => /^total,/.test(l) && Math.random() < 0.2, timeoutMs: 30 * 60_000 });
    const res = { ...raw, stdout: redact(raw.stdout), stderr: redact(raw.stderr) };
    const num = (label: string): number => {
      const m = res.stdout.match(new RegExp(`^${label}\\s*:\\s*([\\d,.]+)`, 'm'));
      return m ? Number(m[1]!.replace(/,/g, '')) : Number.NaN;
    };
    const opsPerSecond = num('Op rate');
    if (res.code !== 0 || !Number.isFinite(opsPerSecond)) {
      throw new Error(`cassandra-stress failed (exit ${res.code}):\n${tail(res.stdout + '\n' + res.stderr, 12)}`);
    }
    return {
      tool: 'cassandra-stress',
      version: STRESS_VERSION,
      command: `cassandra-stress ${stressArgs.join(' ')}${login.length ? ' (login from the environment, in a Java argument file)' : ''}`,
      ops: num('Total partitions'),
      opsPerSecond,
      rowsPerSecond: num('Row rate'),
      latencyMeanMs: num('Latency mean'),
      latencyP99Ms: num('Latency 99th percentile'),
      errors: num('Total errors'),
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await opts.cassandra.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  }
}

/** One argument of a Java @argfile: quoted, with backslashes and quotes escaped (the launcher's own rules). */
export function javaArgFileQuote(arg: string): string {
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface NodeInsertBaseline {
  tool: 'node-unlogged-batch-baseline (NOT cassandra-stress)';
  rows: number;
  rowsPerSecond: number;
  concurrency: number;
  batchRows: number;
}

/** Substitute when cassandra-stress cannot run: the fastest simple writer this driver manages, one table. */
export async function nodeInsertBaseline(client: Client, rows: number, log: Log): Promise<NodeInsertBaseline> {
  const ks = `trackflow_bench_base_${crypto.randomBytes(4).toString('hex')}`;
  const concurrency = 64;
  const batchRows = 20;
  await client.execute(`CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  try {
    await client.execute(`CREATE TABLE ${ks}.t (p int, c int, v text, PRIMARY KEY (p, c))`);
    const q = `INSERT INTO ${ks}.t (p, c, v) VALUES (?, ?, ?)`;
    const value = 'x'.repeat(120);
    let next = 0;
    const t0 = Date.now();
    const worker = async (): Promise<void> => {
      while (next < rows) {
        const start = next;
        next += batchRows;
        const p = Math.floor(start / batchRows);
        const queries = [];
        for (let i = start; i < Math.min(rows, start + batchRows); i++) queries.push({ query: q, params: [p, i, value] });
        await client.batch(queries, { prepare: true, logged: false });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (Date.now() - t0) / 1000;
    log(`  node baseline: ${rows} rows in ${seconds.toFixed(1)} s`);
    return {
      tool: 'node-unlogged-batch-baseline (NOT cassandra-stress)',
      rows,
      rowsPerSecond: Math.round(rows / seconds),
      concurrency,
      batchRows,
    };
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${ks}`).catch(() => undefined);
  }
}
