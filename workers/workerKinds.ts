import { workerConfig as config } from '../lib/config';
import { WORKFLOW_BUNDLE } from '../lib/workerRuntime';
import type { RunWorkerOptions } from './runWorker';

/** Every workflow, plus ingest, publish and job activities. consumeLease lives on the stream queue. */
export function pipelineWorker(): RunWorkerOptions {
  return {
    name: 'pipeline',
    taskQueue: config().temporal.taskQueues.pipeline,
    metricsPort: config().metrics.pipelinePort,
    workflowBundle: WORKFLOW_BUNDLE,
    pick: ({ consumeLease: _stream, ...rest }) => rest,
    watchSchedules: true,
  };
}

/** Only the long-lived Kafka consumption: scaled and restarted independently of ingest. */
export function streamWorker(): RunWorkerOptions {
  return {
    name: 'stream',
    taskQueue: config().temporal.taskQueues.stream,
    metricsPort: config().metrics.streamPort,
    pick: ({ consumeLease }) => ({ consumeLease }),
  };
}
