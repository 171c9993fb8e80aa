import { workerConfig as config } from '../lib/config';
import { runWorker } from './runWorker';
import { WORKFLOW_BUNDLE } from '../lib/workerRuntime';

/** Every workflow, plus ingest, publish and job activities. consumeLease lives on the stream queue. */
async function main(): Promise<void> {
  await runWorker({
    name: 'pipeline',
    taskQueue: config().temporal.taskQueues.pipeline,
    metricsPort: config().metrics.pipelinePort,
    workflowBundle: WORKFLOW_BUNDLE,
    pick: ({ consumeLease: _stream, ...rest }) => rest,
    watchSchedules: true,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'pipeline worker failed', error: String(err instanceof Error ? (err.stack ?? err) : err) })}\n`);
  process.exitCode = 1;
});
