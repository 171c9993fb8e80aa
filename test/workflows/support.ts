import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Runtime, DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { Activities } from '../../activities';
import type { ConsumeCounts } from '../../activities/types';

type History = proto.temporal.api.history.v1.IHistory;
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
  return { ...zeroCounts(), ...partial };
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

/**
 * Parses a history JSON file (as `temporal workflow show --output json` writes it) into a History.
 * The SDK's historyFromJSON uses @temporalio/common's copy of protobufjs, which fails with
 * "type must be a Type" when npm installs a second copy for @temporalio/proto (as here); resolving
 * protobufjs from @temporalio/proto's own location works with either layout.
 */
export function historyFromFile(json: unknown): History {
  const protoDir = path.dirname(require.resolve('@temporalio/proto'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromJson } = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as {
    fromJson: (type: unknown, json: unknown, opts: { ignoreUnknownFields: boolean }) => History | null;
  };
  const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
  const history = fromJson(root.lookupType('temporal.api.history.v1.History'), json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('invalid history JSON');
  return history;
}
