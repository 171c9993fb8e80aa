import { runWorker } from './runWorker';
import { streamWorker } from './workerKinds';

runWorker(streamWorker()).catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'stream worker failed', error: String(err instanceof Error ? (err.stack ?? err) : err) })}\n`);
  process.exitCode = 1;
});
