/**
 * Harness of the fault-injection suite: an isolated stack (keyspace, topic, group, database, task queues),
 * worker processes that can be SIGKILLed for real, and the three checks every scenario ends with.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Pool } from 'mysql2/promise';
import { connectTemporal } from '../../lib/clients/temporal';
import { config as processConfig, REPO_ROOT } from '../../lib/config';
import { exportEvents } from '../../scripts/cli/export';
import { ingestFileCore } from '../../lib/ingest/ingest';
import { loadJobsCore } from '../../lib/ingest/jobCatalogueLoader';
import { publishPendingCore } from '../../lib/publish/publisher';
import { reconcile } from '../../lib/reconcile/gather';
import { down, up } from '../../lib/stack/stack';
import type { ServiceName } from '../../lib/stack/services';
import { readStreamTotals, type StreamTotals } from '../../lib/stream/commit';
import { runConsumeLease, type StreamLeaseOptions } from '../../lib/stream/consumer';
import { generateJobs, generateTracking } from '../../lib/domain/generator';
import type { IngestAndPublishResult, StreamResult, StreamToWarehouseInput } from '../../workflows';
import { isolatedEnv, openTestStack, randomSuffix, type TestStack } from './env';
import { expectedExport, type Expected } from './reference';
import { WORKER_NODE_FLAGS, workerArgs } from '../../lib/workerRuntime';
import type { FaultSpec } from './faultHooks';

let built = false;
/** Spawned workers run the compiled entry points, as in production: (re)build dist/ first if a source changed. */
export function ensureBuilt(): void {
  if (built) return;
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build.sh'), '--if-stale'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status})`);
  built = true;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface WorkerProc {
  kind: 'pipeline' | 'stream';
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the worker polls its task queue. */
  ready: Promise<void>;
}

export interface FaultStack extends TestStack {
  dir: string;
  env: NodeJS.ProcessEnv;
  queues: { pipeline: string; stream: string };
  temporal(): Promise<Client>;
  /** A worker process; with `fault`, the test-only entry point that builds it with that fault hook. */
  spawnWorker(kind: 'pipeline' | 'stream', extraEnv?: Record<string, string>, fault?: FaultSpec): WorkerProc;
  workers: WorkerProc[];
}

export async function openFaultStack(label: string): Promise<FaultStack> {
  const stack = await openTestStack(label);
  const cfg = stack.config;
  const id = randomSuffix();
  const queues = { pipeline: `trackflow-t-pipeline-${id}`, stream: `trackflow-t-stream-${id}` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trackflow-faults-${label}-`));
  const env: NodeJS.ProcessEnv = {
    ...isolatedEnv(cfg),
    TRACKFLOW_TASK_QUEUE_PIPELINE: queues.pipeline,
    TRACKFLOW_TASK_QUEUE_STREAM: queues.stream,
    TRACKFLOW_PIPELINE_METRICS_PORT: '0',
    TRACKFLOW_STREAM_METRICS_PORT: '0',
    TRACKFLOW_LANDING_DIR: dir,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  const workers: WorkerProc[] = [];
  let client: { client: Client; connection: { close(): Promise<void> } } | undefined;
  let n = 0;
  const fsk: FaultStack = {
    ...stack,
    dir,
    env,
    queues,
    workers,
    async temporal() {
      client ??= await connectTemporal(cfg.temporal);
      return client.client;
    },
    spawnWorker(kind, extraEnv = {}, fault) {
      n += 1;
      const logFile = path.join(dir, `${kind}-${n}.log`);
      const out = fs.openSync(logFile, 'a');
      ensureBuilt();
      // A worker that must fail at a given point runs from source through the test-only entry point, with the
      // fault hook in its deps; every other worker runs the compiled entry point, as in production.
      const args = fault
        ? [...WORKER_NODE_FLAGS, '--import', 'tsx', path.join(REPO_ROOT, 'test', 'support', 'faultWorker.ts'), kind, JSON.stringify(fault)]
        : workerArgs(kind);
      const child = spawn(process.execPath, args, {
        cwd: REPO_ROOT,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const ready = (async () => {
        const deadline = Date.now() + 120_000;
        for (;;) {
          if (fs.readFileSync(logFile, 'utf8').includes('Worker started')) return;
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${kind} worker exited early: ${tail(logFile)}`);
          if (Date.now() > deadline) throw new Error(`${kind} worker not ready after 120s: ${tail(logFile)}`);
          await sleep(200);
        }
      })();
      ready.catch(() => undefined);
      const w: WorkerProc = { kind, child, pid: child.pid!, logFile, exited, ready };
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      if (client) await client.connection.close();
      await stack.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return fsk;
}

export function tail(file: string, chars = 3000): string {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.slice(-chars);
  } catch {
    return '';
  }
}

export async function killWorker(w: WorkerProc): Promise<void> {
  process.kill(w.pid, 'SIGKILL');
  const r = await w.exited;
  assert.equal(r.signal, 'SIGKILL');
}

/** Starts ingestAndPublish on the stack's own pipeline queue. */
export async function startIngest(s: FaultStack, input: { paths?: string[]; landingDir?: string; maxEventsPerPublish?: number; maxConcurrentFiles?: number; maxConcurrentPublishes?: number }) {
  const client = await s.temporal();
  return client.workflow.start('ingestAndPublish', {
    taskQueue: s.queues.pipeline,
    workflowId: `ingest-fault-${randomSuffix()}`,
    args: [input],
  });
}

export async function startStream(s: FaultStack, input: StreamToWarehouseInput = {}) {
  const client = await s.temporal();
  return client.workflow.start('streamToWarehouse', {
    taskQueue: s.queues.pipeline,
    workflowId: `stream-fault-${randomSuffix()}`,
    args: [{ streamTaskQueue: s.queues.stream, stopWhenCaughtUp: true, leaseMs: 60_000, failureBackoffMs: 1000, ...input }],
  });
}

export type IngestResult = IngestAndPublishResult;
export type StreamRunResult = StreamResult;

/** Ingest (in order) and publish in this process, without Temporal: for scenarios that break later stages. */
export async function ingestAndPublishDirect(s: TestStack, files: string[]): Promise<void> {
  const cfg = s.config;
  for (const f of files) {
    await ingestFileCore({ cassandra: s.deps.cassandra, keyspace: cfg.cassandra.keyspace }, { path: f });
  }
  for (;;) {
    const r = await publishPendingCore({
      cassandra: s.deps.cassandra, kafka: s.deps.kafka, keyspace: cfg.cassandra.keyspace,
      topic: cfg.kafka.topic, partitions: cfg.kafka.partitions,
    });
    if (!r.more) break;
  }
}

export async function loadJobs(s: TestStack, jobFile: string): Promise<void> {
  await loadJobsCore(s.deps.mysql, { path: jobFile }, { log: () => undefined });
}

/** One in-process lease until every partition is caught up. */
export async function consumeUntilCaughtUp(s: TestStack, opts: Partial<StreamLeaseOptions> = {}) {
  return runConsumeLease(s.deps, { leaseMs: 180_000, stopWhenCaughtUp: true, ...opts });
}

export async function exportLines(s: TestStack): Promise<string[]> {
  let text = '';
  await exportEvents(s.deps.mysql, 'csv', (chunk) => (text += chunk));
  return text.trimEnd().split('\n');
}

export interface ScenarioResult {
  scenario: string;
  eventsIn: number;
  expected: number;
  found: number;
  pass: boolean;
  totals: StreamTotals;
}

const RESULTS_FILE = process.env['TRACKFLOW_FAULT_RESULTS'] ?? path.join(os.tmpdir(), 'trackflow-fault-results.jsonl');

/**
 * The three checks of every scenario: the warehouse equals the reference, reconcile holds on every equation,
 * and every consumed message has exactly one outcome with nothing left to consume.
 */
export async function assertExact(
  s: TestStack,
  scenario: string,
  exp: Expected,
  extra: { deadLettered?: number; eventsIn?: number } = {},
): Promise<ScenarioResult> {
  const cfg = s.config;
  const lines = await exportLines(s);
  const totals = await readStreamTotals(s.deps.mysql, cfg.kafka.consumerGroup, cfg.kafka.topic);
  const found = lines.slice(1).reduce((sum, l) => {
    const c = l.split(',');
    return sum + Number(c[7]) + Number(c[9]) + Number(c[10]) + Number(c[11]);
  }, 0);
  const result: ScenarioResult = {
    scenario, eventsIn: extra.eventsIn ?? exp.rows, expected: exp.counted, found, pass: false, totals,
  };
  try {
    assert.deepEqual(lines, expectedExport(exp), 'warehouse events table differs from the reference');
    const r = await reconcile({ cassandra: s.deps.cassandra, kafka: s.deps.kafka, mysql: s.deps.mysql, config: cfg });
    const notOk = r.checks.filter((c) => c.status !== 'ok');
    assert.deepEqual(notOk, [], `reconcile: ${JSON.stringify(r.checks)}`);
    assert.equal(r.status, 'ok');
    assert.equal(r.stages.find((st) => st.key === 'lag')?.value, 0, 'consumer lag');
    assert.equal(
      totals.consumed - totals.redelivered,
      totals.filtered + totals.unattributed + totals.deadLettered + totals.duplicates + totals.counted,
      `unaccounted messages: ${JSON.stringify(totals)}`,
    );
    assert.equal(totals.counted, exp.counted, 'counted');
    assert.equal(totals.filtered, exp.filtered, 'filtered');
    assert.equal(totals.unattributed, exp.unattributed, 'unattributed');
    assert.equal(totals.deadLettered, extra.deadLettered ?? exp.poison, 'dead-lettered');
    result.pass = true;
  } finally {
    fs.appendFileSync(RESULTS_FILE, JSON.stringify({ ...result, at: new Date().toISOString() }) + '\n');
  }
  return result;
}

/**
 * Stops a service of the shared local stack and always brings it back. Other work may share the stack, so the
 * outage is kept as short as the scenario needs.
 */
export async function withServiceDown<T>(name: ServiceName, downMs: number, during?: () => Promise<T>): Promise<T | undefined> {
  const cfg = processConfig();
  let out: T | undefined;
  try {
    await down(cfg, [name]);
    const work = during ? during() : Promise.resolve(undefined);
    await sleep(downMs);
    out = await Promise.race([work, Promise.resolve(undefined)]);
  } finally {
    await up(cfg, [name]);
  }
  return out;
}

export async function restartService(name: ServiceName): Promise<void> {
  const cfg = processConfig();
  try {
    await down(cfg, [name]);
  } finally {
    await up(cfg, [name]);
  }
}

/** Polls until `probe` returns a value, or throws after `ms`. */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** A generated tracking export (a few malformed rows included) and its job export, in the stack's directory. */
export async function writeDataset(
  s: FaultStack,
  events: number,
  seed: number,
  opts: { extraLines?: string[]; name?: string; dir?: string } = {},
): Promise<{ tracking: string; jobs: string }> {
  const dir = opts.dir ?? s.dir;
  fs.mkdirSync(dir, { recursive: true });
  const tracking = path.join(dir, opts.name ?? `tracking-${seed}.csv`);
  const out = fs.createWriteStream(tracking);
  const gen = generateTracking({ events, seed, badRate: 0.005 });
  for (const l of [...gen.lines, ...(opts.extraLines ?? [])]) {
    if (!out.write(l) || !out.write('\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const jobs = path.join(s.dir, `job-${seed}.csv`);
  fs.writeFileSync(jobs, [...generateJobs(seed)].join('\n') + '\n');
  return { tracking, jobs };
}

/** A pool whose transactions hold their locks a while before committing: a batch stays in flight longer. */
export function slowCommits(pool: Pool, ms: number): Pool {
  return new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop !== 'getConnection') return Reflect.get(target, prop, receiver) as unknown;
      return async () => {
        const conn = await target.getConnection();
        return new Proxy(conn, {
          get(c, q, r) {
            if (q === 'commit') {
              return async () => {
                await sleep(ms);
                return c.commit();
              };
            }
            const v = Reflect.get(c, q, r) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
          },
        });
      };
    },
  });
}

