import { workerConfig as config } from '../lib/config';
import { runWorker } from './runWorker';

/** Only the long-lived Kafka consumption: scaled and restarted independently of ingest. */
async function main(): Promise<void> {
  await runWorker({
    name: 'stream',
    taskQueue: config().temporal.taskQueues.stream,
    metricsPort: config().metrics.streamPort,
    pick: ({ consumeLease }) => ({ consumeLease }),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'stream worker failed', error: String(err instanceof Error ? (err.stack ?? err) : err) })}\n`);
  process.exitCode = 1;
});
