import { runWorker } from '../lib/temporal/runWorker';
import { streamWorker } from '../lib/temporal/workerKinds';

runWorker(streamWorker()).catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'stream worker failed', error: String(err instanceof Error ? (err.stack ?? err) : err) })}\n`);
  process.exitCode = 1;
});
