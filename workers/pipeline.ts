import { runWorker } from './runWorker';
import { pipelineWorker } from './workerKinds';

runWorker(pipelineWorker()).catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'pipeline worker failed', error: String(err instanceof Error ? (err.stack ?? err) : err) })}\n`);
  process.exitCode = 1;
});
