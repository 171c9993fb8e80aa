import fs from 'node:fs';
import type http from 'node:http';
import { Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import { createActivities } from '../activities';
import { createCassandraClient } from '../lib/clients/cassandra';
import { createKafka } from '../lib/clients/kafka';
import { createMysqlPool } from '../lib/clients/mysql';
import { config, kafkaFor, sdkMetricsPort } from '../lib/config';
import type { ActivityFaultHook } from '../lib/faults';
import { Metrics, fetchMetricsText } from '../lib/metrics';
import { activityMetricsInterceptor } from './activityMetrics';
import { connectTemporal } from '../lib/clients/temporal';
import { watchSchedules } from './scheduleMetrics';
import { connectWorker } from '../lib/temporal/connection';
import { JsonLogger } from '../lib/temporal/log';

export interface RunWorkerOptions {
  name: 'pipeline' | 'stream';
  taskQueue: string;
  metricsPort: number;
  /** The workflow bundle built by `npm run build` (WORKFLOW_BUNDLE); omit for an activity-only worker. */
  workflowBundle?: string;
  /** The subset of activities this queue serves. */
  pick: (all: Activities) => Partial<Activities>;
  /** Export trackflow_schedule_paused for the ingest schedules (the pipeline worker does). */
  watchSchedules?: boolean;
  /** Test-only fault hook handed to the activities (lib/faults.ts); the production workers never set it. */
  faults?: ActivityFaultHook;
}

// The Temporal SDK's exporter port: its text is appended to /metrics (docs/metrics.md).
export { sdkMetricsPort };

/** Activities still running this long after SIGTERM are cancelled; they then commit or roll back. */
const SHUTDOWN_GRACE = '20s';

/**
 * Shared bootstrap of both worker processes: clients built once, JSON logs, /metrics and /healthz,
 * and an orderly shutdown on SIGINT/SIGTERM (stop polling, let in-flight activities finish, close clients).
 */
export async function runWorker(opts: RunWorkerOptions): Promise<void> {
  const log = new JsonLogger({ worker: opts.name, taskQueue: opts.taskQueue });
  const sdkPort = sdkMetricsPort(opts.metricsPort);
  // shutdownSignals: [] because the handler below owns shutdown, so it can log and close clients in order.
  Runtime.install({
    logger: log,
    shutdownSignals: [],
    ...(sdkPort ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}`, useSecondsForDurations: true } } } } : {}),
  });

  const cfg = config();
  const metrics = new Metrics({ processMetrics: true, worker: opts.name });
  if (sdkPort) metrics.appendFrom(() => fetchMetricsText(`http://127.0.0.1:${sdkPort}/metrics`));
  const cassandra = createCassandraClient(cfg.cassandra);
  // Each worker signs in as its own Kafka user: the pipeline's may only publish, the stream's only consume.
  const kafka = createKafka(kafkaFor(cfg.kafka, opts.name === 'pipeline' ? 'publisher' : 'stream'), `worker-${opts.name}`);
  const mysql = createMysqlPool(cfg.mysql);
  let server: http.Server | undefined;
  let connection: Awaited<ReturnType<typeof connectWorker>> | undefined;
  let worker: Worker | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!worker || worker.getState() !== 'RUNNING') {
      log.warn('Second signal: exiting without waiting for in-flight activities', { signal });
      process.exit(130);
    }
    log.info('Shutting down: no new tasks, in-flight activities get a grace period', { signal, grace: SHUTDOWN_GRACE });
    worker.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const activities = opts.pick(createActivities({ cassandra, kafka, mysql, config: cfg, metrics, ...(opts.faults ? { faults: opts.faults } : {}) }));
    connection = await connectWorker(cfg.temporal);
    if (opts.workflowBundle && !fs.existsSync(opts.workflowBundle)) {
      throw new Error(`${opts.workflowBundle} is missing: run \`npm run build\` first`);
    }
    worker = await Worker.create({
      connection,
      namespace: cfg.temporal.namespace,
      taskQueue: opts.taskQueue,
      // Bundled once by `npm run build`: no webpack in the worker, so neither its start time nor its memory.
      ...(opts.workflowBundle ? { workflowBundle: { codePath: opts.workflowBundle } } : {}),
      activities,
      shutdownGraceTime: SHUTDOWN_GRACE,
      // Cancellation reaches an activity only on a heartbeat response; the default throttle (80% of a 30s
      // heartbeat timeout) would make `stream drain` wait up to 24s.
      maxHeartbeatThrottleInterval: '2s',
      // A stream worker runs one consumer lease per slot it picks up; config caps how many (docs/scaling.md).
      maxConcurrentActivityTaskExecutions: opts.name === 'stream' ? cfg.scale.streamWorkerActivities : cfg.scale.pipelineWorkerActivities,
      identity: `trackflow-${opts.name}@${process.pid}`,
      interceptors: { activity: [activityMetricsInterceptor(metrics)] },
    });
    const w = worker;
    server = await metrics.serve(opts.metricsPort, () => ({
      ok: w.getState() === 'RUNNING',
      detail: { worker: opts.name, taskQueue: opts.taskQueue, state: w.getState() },
    }));
    const address = server.address();
    log.info('Worker started', {
      temporal: cfg.temporal.address,
      namespace: cfg.temporal.namespace,
      activities: Object.keys(activities),
      workflows: Boolean(opts.workflowBundle),
      metrics: typeof address === 'object' && address ? `http://${address.address}:${address.port}/metrics` : undefined,
      sdkMetrics: sdkPort ? `http://127.0.0.1:${sdkPort}/metrics (appended to /metrics)` : undefined,
    });
    metrics.set('trackflow_worker_up', 'Whether the worker is polling its task queue', 1, { worker: opts.name });
    const schedules = opts.watchSchedules ? await connectTemporal(cfg.temporal).catch(() => undefined) : undefined;
    const stopWatching = schedules ? watchSchedules(schedules.client, metrics) : undefined;
    try {
      await worker.run();
    } finally {
      stopWatching?.();
      await schedules?.connection.close().catch(() => undefined);
    }
    metrics.set('trackflow_worker_up', '', 0, { worker: opts.name });
    log.info('Worker stopped');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const closing: Array<Promise<unknown>> = [
      mysql.end(),
      cassandra.shutdown(),
      new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    ];
    if (connection) closing.push(connection.close());
    const results = await Promise.allSettled(closing);
    for (const r of results) if (r.status === 'rejected') log.warn('Error while closing a client', { error: r.reason as unknown });
  }
}
