import fs from 'node:fs';
import path from 'node:path';
import { openFaultStack } from '../../test/support/faults';
import type { WorkerProc } from '../../test/support/faults';
import { loadJobs, startIngest, startStream } from '../../test/support/faults';
import { waitCaughtUp } from '../cli/wait';
import { readStreamTotals } from '../stream/commit';
import type { Dataset } from './pipeline';
import type { Log } from './platform';

/** CPU and memory of one worker process, read from /proc while the run lasts. */
export interface WorkerUsage {
  pid: number;
  cpuSeconds: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
}

export interface OrchestratedResult {
  events: number;
  /** File handed to ingestAndPublish -> that workflow completed (ingest, then publish). */
  ingestAndPublishSeconds: number;
  /** File handed to ingestAndPublish -> every published event committed in the warehouse. */
  seconds: number;
  eventsPerSecond: number;
  consumed: number;
  counted: number;
  workers: { pipeline: WorkerUsage; stream: WorkerUsage };
}

// Linux reports process CPU in clock ticks; USER_HZ is 100 on every mainstream kernel configuration.
const TICKS_PER_SECOND = 100;

export function readProc(pid: number): { cpuSeconds: number; rssMb: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMb: rssKb / 1024 };
  } catch {
    return undefined;
  }
}

export function sampleWorker(w: Pick<WorkerProc, 'pid'>): { stop(): WorkerUsage } {
  const first = readProc(w.pid) ?? { cpuSeconds: 0, rssMb: 0 };
  let last = first;
  let peak = first.rssMb;
  const timer = setInterval(() => {
    const now = readProc(w.pid);
    if (!now) return;
    last = now;
    peak = Math.max(peak, now.rssMb);
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      const end = readProc(w.pid) ?? last;
      return {
        pid: w.pid,
        cpuSeconds: Number((end.cpuSeconds - first.cpuSeconds).toFixed(1)),
        rssStartMb: Math.round(first.rssMb),
        rssPeakMb: Math.round(Math.max(peak, end.rssMb)),
        rssEndMb: Math.round(end.rssMb),
      };
    },
  };
}

/**
 * End to end as a user runs it: the pipeline and stream workers in their own processes (the workers' Node
 * flags), the stream workflow running, then a tracking file dropped into the landing directory and
 * ingestAndPublish started on it; timed until the warehouse has caught up. The stages overlap here (the
 * stream consumes while the publisher sends), unlike the per-stage figures.
 */
export async function runOrchestrated(data: Dataset, opts: { log: Log }): Promise<OrchestratedResult> {
  const { log } = opts;
  const s = await openFaultStack('benche2e');
  try {
    log(`  isolated: keyspace ${s.config.cassandra.keyspace}, topic ${s.config.kafka.topic}, queues ${s.queues.pipeline}, ${s.queues.stream}`);
    await loadJobs(s, data.jobFile);
    const pipeline = s.spawnWorker('pipeline');
    const stream = s.spawnWorker('stream');
    await Promise.all([pipeline.ready, stream.ready]);
    const streamRun = await startStream(s, { stopWhenCaughtUp: false, leaseMs: 300_000 });

    const dropped = path.join(s.dir, path.basename(data.trackingFile));
    try {
      fs.linkSync(data.trackingFile, dropped);
    } catch {
      fs.copyFileSync(data.trackingFile, dropped);
    }
    const samplers = { pipeline: sampleWorker(pipeline), stream: sampleWorker(stream) };
    const t0 = process.hrtime.bigint();
    const elapsed = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
    const ingest = await startIngest(s, { landingDir: s.dir });
    log(`  ingestAndPublish started on ${dropped}`);
    const progress = setInterval(() => log(`  [end to end] ${elapsed().toFixed(0)} s`), 10_000);
    let ingestSeconds: number;
    let state;
    try {
      await ingest.result();
      ingestSeconds = elapsed();
      log(`  ingestAndPublish done in ${ingestSeconds.toFixed(1)} s; waiting for the warehouse to catch up`);
      state = await waitCaughtUp(s.deps, { timeoutMs: 1_800_000, pollMs: 250 });
    } finally {
      clearInterval(progress);
    }
    const seconds = elapsed();
    const workers = { pipeline: samplers.pipeline.stop(), stream: samplers.stream.stop() };
    if (!state.caughtUp) throw new Error(`warehouse not caught up after ${seconds.toFixed(0)} s (lag ${state.lag})`);
    await streamRun.cancel().catch(() => undefined);
    const totals = await readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
    return {
      events: data.events,
      ingestAndPublishSeconds: Number(ingestSeconds.toFixed(2)),
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Math.round(totals.consumed / seconds),
      consumed: totals.consumed,
      counted: totals.counted,
      workers,
    };
  } finally {
    await s.close().catch((err: unknown) => log(`  cleanup failed: ${(err as Error).message}`));
  }
}
