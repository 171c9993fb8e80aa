/**
 * A worker of the fault suite: the same worker as workers/<kind>.ts, with a fault hook in its activities'
 * deps. Usage: faultWorker.ts <pipeline|stream> '<FaultSpec as JSON>'. Only tests start it.
 */
import { runWorker } from '../../workers/runWorker';
import { pipelineWorker, streamWorker } from '../../workers/workerKinds';
import { hookFor, type FaultSpec } from './faultHooks';

const [kind, specJson] = process.argv.slice(2);
if ((kind !== 'pipeline' && kind !== 'stream') || !specJson) {
  process.stderr.write('usage: faultWorker.ts <pipeline|stream> <fault spec JSON>\n');
  process.exit(2);
}
const spec = JSON.parse(specJson) as FaultSpec;
const options = kind === 'pipeline' ? pipelineWorker() : streamWorker();

runWorker({ ...options, faults: hookFor(spec) }).catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: `${kind} fault worker failed`, error: String(err instanceof Error ? (err.stack ?? err) : err) })}\n`);
  process.exitCode = 1;
});
