import os from 'node:os';
import path from 'node:path';
import { loadJobs, openFaultStack, startIngest, startStream, writeDataset } from '../test/support/faults';
import { waitCaughtUp } from '../lib/reconcile/caughtUp';
import { readStreamTotals } from '../lib/stream/commit';
import type { WorkerUsage } from './orchestrated';
import { sampleProcess } from './resources';
import { cpuWindow, stackServerPids } from './processCpu';
import type { Log } from './platform';

/** One worker count of `npm run bench -- --workers 1,2,3`. */
export interface ScaleOutRun {
  workers: number;
  consumers: number;
  files: number;
  events: number;
  consumed: number;
  seconds: number;
  eventsPerSecond: number;
  /** Busy cores of the whole machine over the run (from /proc/stat), out of `cpus`. */
  machineCoresBusy: number;
  cpus: number;
  pipeline: WorkerUsage[];
  stream: WorkerUsage[];
  /** CPU seconds per 1000 consumed events, per process kind; servers are shared with anything else using the stack. */
  cpuMsPerEvent: Record<string, number>;
  servers: Record<string, { cpuSeconds: number }>;
}

/**
 * n pipeline and n stream worker processes, C = partitions consumers, `files` exports dropped at once and
 * ingested with maxConcurrentFiles = maxConcurrentPublishes = n; timed from the ingest start until the
 * warehouse has caught up.
 */
export async function runScaleOutOnce(n: number, opts: { events: number; files: number; seed: number; log: Log }): Promise<ScaleOutRun> {
  const { log } = opts;
  const s = await openFaultStack(`benchscale${n}`);
  try {
    const landing = path.join(s.dir, 'landing');
    const per = Math.floor(opts.events / opts.files);
    const sets = [];
    for (let i = 0; i < opts.files; i++) sets.push(await writeDataset(s, per, opts.seed + i, { dir: landing, name: `export-${i}.csv` }));
    await loadJobs(s, sets[0]!.jobs);
    const consumers = s.config.kafka.partitions;
    const perWorker = String(Math.max(2, Math.ceil(consumers / n)));
    const pipelines = Array.from({ length: n }, () => s.spawnWorker('pipeline'));
    const streams = Array.from({ length: n }, () => s.spawnWorker('stream', { TRACKFLOW_STREAM_WORKER_ACTIVITIES: perWorker }));
    await Promise.all(s.workers.map((w) => w.ready));
    const stream = await startStream(s, { consumers, stopWhenCaughtUp: false, leaseMs: 300_000 });
    const servers = cpuWindow(stackServerPids());
    const samplers = { pipeline: pipelines.map((w) => sampleProcess(w.pid)), stream: streams.map((w) => sampleProcess(w.pid)) };
    const t0 = Date.now();
    const ingest = await startIngest(s, { landingDir: landing, maxConcurrentFiles: n, maxConcurrentPublishes: n });
    await ingest.result();
    const state = await waitCaughtUp(s.deps, { timeoutMs: 1_800_000, pollMs: 250 });
    const seconds = (Date.now() - t0) / 1000;
    const serverUse = servers.stop();
    const usage = { pipeline: samplers.pipeline.map((x) => x.stop()), stream: samplers.stream.map((x) => x.stop()) };
    if (!state.caughtUp) throw new Error(`warehouse not caught up after ${seconds.toFixed(0)} s`);
    await stream.cancel().catch(() => undefined);
    const totals = await readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
    // Keyed as before (`mysql` is the MariaDB server), so earlier result files compare.
    const serverCpu = Object.fromEntries(
      Object.entries(serverUse.cpuSeconds).map(([k, cpu]) => [k === 'mariadb' ? 'mysql' : k, { cpuSeconds: Number(cpu.toFixed(1)) }]),
    );
    const msPerEvent = (cpu: number) => Number(((cpu / Math.max(1, totals.consumed)) * 1000).toFixed(3));
    const cpuMsPerEvent: Record<string, number> = {
      pipelineWorkers: msPerEvent(usage.pipeline.reduce((a, w) => a + w.cpuSeconds, 0)),
      streamWorkers: msPerEvent(usage.stream.reduce((a, w) => a + w.cpuSeconds, 0)),
      ...Object.fromEntries(Object.entries(serverCpu).map(([k, v]) => [k, msPerEvent(v.cpuSeconds)])),
    };
    const run: ScaleOutRun = {
      workers: n, consumers, files: opts.files, events: per * opts.files, consumed: totals.consumed, seconds: Number(seconds.toFixed(1)),
      eventsPerSecond: Math.round(totals.consumed / seconds),
      machineCoresBusy: Number((serverUse.machineCpuSeconds / Math.max(0.001, serverUse.seconds)).toFixed(2)),
      cpus: os.cpus().length, pipeline: usage.pipeline, stream: usage.stream, cpuMsPerEvent, servers: serverCpu,
    };
    log(`  workers ${n}: ${run.consumed} events in ${run.seconds} s = ${run.eventsPerSecond}/s, machine ${run.machineCoresBusy}/${run.cpus} cores busy`);
    return run;
  } finally {
    await s.close().catch((err: unknown) => log(`  cleanup failed: ${(err as Error).message}`));
  }
}

/** The table printed after `--workers`. */
export function scaleOutSummary(runs: ScaleOutRun[]): string {
  const lines = ['workers  events/s  seconds  cores busy  stream CPU s (peak MB) per worker          pipeline CPU s (peak MB) per worker        ms CPU/event: stream pipeline cassandra kafka mysql temporal'];
  for (const r of runs) {
    const w = (xs: WorkerUsage[]) => xs.map((x) => `${x.cpuSeconds} (${x.rssPeakMb})`).join(', ');
    const c = r.cpuMsPerEvent;
    lines.push(`${String(r.workers).padEnd(8)} ${String(r.eventsPerSecond).padEnd(9)} ${String(r.seconds).padEnd(8)} ${`${r.machineCoresBusy}/${r.cpus}`.padEnd(11)} ${w(r.stream).padEnd(40)} ${w(r.pipeline).padEnd(42)} ` +
      `${c['streamWorkers']} ${c['pipelineWorkers']} ${c['cassandra']} ${c['kafka']} ${c['mysql']} ${c['temporal']}`);
  }
  return lines.join('\n');
}
