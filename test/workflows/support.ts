import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Runtime, DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { ConsumeCounts } from '../../activities/types';
import { temporalBinaryPath } from '../../lib/stack/paths';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { zeroCounts } from '../../workflows/streamToWarehouse';

let runtimeInstalled = false;

/** A throwaway dev server from the cached `temporal` binary: no download, no shared state with the stack. */
export async function startTestEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinaryPath() },
      ip: '127.0.0.1',
      log: { format: 'pretty', level: 'error' },
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') });
  return bundle;
}

/**
 * Runs `fn` while a pipeline worker (all workflows + the given activities) and a stream worker
 * (consumeLease only, on its own queue as in production) poll the test server.
 */
export async function withWorkers<T>(
  env: TestWorkflowEnvironment,
  activities: Partial<Activities>,
  fn: () => Promise<T>,
): Promise<T> {
  const { consumeLease, ...pipelineActivities } = activities;
  const pipeline = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUES.pipeline,
    workflowBundle: await workflowBundle(),
    activities: pipelineActivities,
  });
  if (!consumeLease) return pipeline.runUntil(fn);
  const stream = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUES.stream,
    activities: { consumeLease },
    maxHeartbeatThrottleInterval: '100ms',
  });
  const streamRun = stream.run();
  try {
    return await pipeline.runUntil(fn);
  } finally {
    stream.shutdown();
    await streamRun;
  }
}

export function counts(partial: Partial<ConsumeCounts> = {}): ConsumeCounts {
  return { consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0, duplicates: 0, redelivered: 0, unknownJob: 0, batches: 0, ...partial };
}

export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
