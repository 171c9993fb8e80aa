import fs from 'node:fs';
import path from 'node:path';
import { openFaultStack } from '../test/support/faults';
import { loadJobs, startIngest, startStream } from '../test/support/faults';
import { waitCaughtUp } from '../lib/reconcile/caughtUp';
import { readStreamTotals } from '../lib/stream/commit';
import type { Dataset } from './pipeline';
import type { Log } from './platform';
import type { ProcessUsage } from './resources';
import { sampleProcess } from './resources';
import type { CpuBreakdown } from './processCpu';
import { cpuWindow, perEvent, withServers } from './processCpu';

/** CPU and memory of one worker process, read from /proc while the run lasts. */
export type WorkerUsage = ProcessUsage;

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
  /** CPU of each worker and each server of the stack over the run, per consumed event. */
  cpu?: CpuBreakdown;
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
    const samplers = { pipeline: sampleProcess(pipeline.pid), stream: sampleProcess(stream.pid) };
    const cpu = cpuWindow(withServers({ pipelineWorker: [pipeline.pid], streamWorker: [stream.pid] }));
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
    const cpuTotals = cpu.stop();
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
      cpu: perEvent(cpuTotals, totals.consumed),
    };
  } finally {
    await s.close().catch((err: unknown) => log(`  cleanup failed: ${(err as Error).message}`));
  }
}
