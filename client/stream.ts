import type { Client, WorkflowStartOptions } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Config } from '../lib/config';
import { defaultConsumers } from '../lib/config';
import { streamToWarehouse } from '../workflows';
import type { StreamToWarehouseInput } from '../workflows';
import { streamWorkflowId } from './ids';

export interface StreamStart {
  topic: string;
  group: string;
  /** Where the workflow runs (the pipeline worker's queue). */
  taskQueue: string;
  input: StreamToWarehouseInput;
  /** Defaults to stream-<topic>-<group>. */
  workflowId?: string;
}

/** The stream of `cfg`'s topic and group with its default consumer count; `input` overrides the workflow input. */
export function streamStartOf(cfg: Config, input: StreamToWarehouseInput = {}): StreamStart {
  return {
    topic: cfg.kafka.topic,
    group: cfg.kafka.consumerGroup,
    taskQueue: cfg.temporal.taskQueues.pipeline,
    input: { streamTaskQueue: cfg.temporal.taskQueues.stream, consumers: defaultConsumers(cfg), ...input },
  };
}

export function streamStartOptions(s: StreamStart): WorkflowStartOptions<typeof streamToWarehouse> & { workflowId: string } {
  return {
    taskQueue: s.taskQueue,
    workflowId: s.workflowId ?? streamWorkflowId(s.topic, s.group),
    args: [s.input],
    // A drained or stopped stream can be started again under the same id; a running one cannot.
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowIdConflictPolicy: 'FAIL',
    // Shown in the Web UI's list, so an operator sees which topic and group a stream consumes.
    memo: { topic: s.topic, group: s.group, consumers: s.input.consumers },
  };
}

/**
 * Starts the stream unless it already runs; the one start used by `trackflow stream start` and `npm start`,
 * so both give the run the same id, memo and policies.
 */
export async function startStream(client: Client, s: StreamStart): Promise<{ workflowId: string; runId?: string; started: boolean }> {
  const options = streamStartOptions(s);
  try {
    const handle = await client.workflow.start(streamToWarehouse, options);
    return { workflowId: options.workflowId, runId: handle.firstExecutionRunId, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { workflowId: options.workflowId, started: false };
  }
}
