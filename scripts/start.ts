import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/client';
import { ADMIN_SECRET_KEYS, childEnv, config, REPO_ROOT } from '../lib/config';
import { connectTemporal } from '../lib/clients/temporal';
import { writeDataset } from '../lib/domain/generator';
import { DIST_DIR, workerArgs } from '../lib/workerRuntime';
import { migrateAll } from '../lib/migrate/run';
import { ingestWorkflowId, jobsWorkflowId } from '../client/ids';
import { startStream, streamStartOf } from '../client/stream';
import { ingestAndPublish, loadJobs } from '../workflows';
import type { IngestAndPublishResult } from '../workflows';
import { UsageError, act, intRange, newProgram, runProgram } from './cli/command';

// One paragraph: commander wraps it to the terminal's width.
const DESCRIPTION =
  'Runs the whole pipeline on the local stack: migrations, both workers, the job dimension, the stream, ' +
  'ingest-and-publish, then waits until the warehouse has caught up and prints the report. Without --tracking ' +
  'it generates a realistic sample (deterministic per seed) into the landing directory.';

interface StartOptions {
  once?: boolean;
  jobs?: string;
  tracking?: string;
  events: number;
  seed: number;
  streamWorkers: number;
  pipelineWorkers: number;
}

const say = (line: string) => process.stdout.write(`\x1b[1m==>\x1b[0m ${line}\n`);

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts a worker unless one already answers on its health port; returns the child we own, if any. */
async function startWorker(name: 'pipeline' | 'stream', port: number, logDir: string): Promise<ChildProcess | undefined> {
  if (await healthy(port)) {
    say(`${name} worker already running (health on :${port})`);
    return undefined;
  }
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `worker-${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, workerArgs(name), {
    cwd: REPO_ROOT,
    stdio: ['ignore', out, out],
    env: workerEnv(),
    // Own process group: Ctrl-C reaches only this script, which then sends each worker exactly one SIGTERM.
    // A worker that got the terminal's SIGINT as well would take our SIGTERM as a second, impatient signal.
    detached: true,
  });
  fs.closeSync(out);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} worker exited with ${child.exitCode}; see ${logFile}`);
    if (await healthy(port)) {
      say(`${name} worker started (pid ${child.pid}, metrics http://127.0.0.1:${port}/metrics, log ${logFile})`);
      return child;
    }
    await sleep(500);
  }
  child.kill('SIGTERM');
  throw new Error(`${name} worker did not become healthy in 90s; see ${logFile}`);
}

/** Workers get everything but the admin secrets (they re-read .env without them, too). */
function workerEnv(): NodeJS.ProcessEnv {
  return childEnv(Object.fromEntries(ADMIN_SECRET_KEYS.map((key) => [key, undefined])));
}

/** One more worker of a kind: metrics off (the first one owns the port), ready once its log says so. */
async function startExtraWorker(name: 'pipeline' | 'stream', n: number, logDir: string): Promise<ChildProcess> {
  const logFile = path.join(logDir, `worker-${name}-${n}.log`);
  fs.writeFileSync(logFile, '');
  const out = fs.openSync(logFile, 'a');
  const portVar = name === 'stream' ? 'TRACKFLOW_STREAM_METRICS_PORT' : 'TRACKFLOW_PIPELINE_METRICS_PORT';
  const child = spawn(process.execPath, workerArgs(name), {
    cwd: REPO_ROOT, stdio: ['ignore', out, out], env: { ...workerEnv(), [portVar]: '0' }, detached: true,
  });
  fs.closeSync(out);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} worker ${n} exited with ${child.exitCode}; see ${logFile}`);
    if (fs.readFileSync(logFile, 'utf8').includes('Worker started')) {
      say(`${name} worker ${n} started (pid ${child.pid}, log ${logFile})`);
      return child;
    }
    await sleep(500);
  }
  child.kill('SIGTERM');
  throw new Error(`${name} worker ${n} did not start in 90s; see ${logFile}`);
}

function trackflow(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(DIST_DIR, 'scripts', 'cli.js'), ...args], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

function trackingFiles(target: string): string[] {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) throw new Error(`--tracking ${target}: no such file or directory`);
  if (stat.isFile()) return [path.resolve(target)];
  return fs
    .readdirSync(target)
    .filter((f) => /\.csv(\.gz)?$/i.test(f))
    .sort()
    .map((f) => path.resolve(target, f));
}

async function main(values: StartOptions): Promise<number> {
  if (Boolean(values.jobs) !== Boolean(values.tracking)) throw new UsageError('--jobs and --tracking go together');
  const counts = { stream: values.streamWorkers, pipeline: values.pipelineWorkers };
  const cfg = config();
  const started = Date.now();
  // Worker logs and the generated sample are this user's only.
  process.umask(0o077);

  say('applying migrations (Cassandra lake, MySQL warehouse)');
  await migrateAll(cfg);

  const owned: ChildProcess[] = [];
  const stopWorkers = async () => {
    for (const child of owned) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(owned.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  };
  const logDir = path.join(cfg.stateDir, 'logs');
  const { client, connection } = await connectTemporal(cfg.temporal);
  try {
    for (const [name, port] of [['pipeline', cfg.metrics.pipelinePort], ['stream', cfg.metrics.streamPort]] as const) {
      const child = await startWorker(name, port, logDir);
      if (child) owned.push(child);
      for (let n = 2; n <= counts[name]; n++) owned.push(await startExtraWorker(name, n, logDir));
    }

    let jobsFile: string;
    let files: string[];
    if (values.tracking && values.jobs) {
      jobsFile = path.resolve(values.jobs);
      files = trackingFiles(values.tracking);
      say(`using ${files.length} tracking export(s) from ${values.tracking} and jobs from ${jobsFile}`);
    } else {
      const { events, seed } = values;
      const name = `tracking-sample-seed${seed}-${events}.csv`;
      const target = path.join(cfg.landingDir, name);
      jobsFile = path.join(cfg.landingDir, 'jobs', `job-sample-seed${seed}.csv`);
      if (!fs.existsSync(target) || !fs.existsSync(jobsFile)) {
        say(`generating a realistic sample: ${events} events, seed ${seed}`);
        const tmp = fs.mkdtempSync(path.join(cfg.stateDir, 'sample-'));
        const gen = await writeDataset(tmp, { events, seed });
        fs.mkdirSync(path.dirname(jobsFile), { recursive: true });
        fs.copyFileSync(gen.jobFile, jobsFile);
        fs.copyFileSync(gen.trackingFile, target);
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      files = [target];
      say(`sample in ${target} (re-runs reuse it, so the warehouse does not change)`);
    }

    say(`loading the job dimension from ${jobsFile}`);
    const jobs = await client.workflow.execute(loadJobs, {
      taskQueue: cfg.temporal.taskQueues.pipeline,
      workflowId: jobsWorkflowId(jobsFile),
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [{ path: jobsFile }],
    });
    say(`jobs: ${JSON.stringify(jobs)}`);

    const stream = await startStream(client, streamStartOf(cfg));
    say(`stream ${stream.started ? 'started' : 'already running'}: workflow ${stream.workflowId}`);

    const ingestId = ingestWorkflowId({ paths: files });
    say(`ingesting and publishing ${files.length} file(s): workflow ${ingestId}`);
    let result: IngestAndPublishResult;
    try {
      result = await client.workflow.execute(ingestAndPublish, {
        taskQueue: cfg.temporal.taskQueues.pipeline,
        workflowId: ingestId,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        args: [{ paths: files }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      result = await client.workflow.getHandle<typeof ingestAndPublish>(ingestId).result();
    }
    for (const f of result.files) {
      const s = f.summary;
      say(
        `${path.basename(f.path)}: ${f.status}` +
          (s ? ` (read ${s.rowsRead}, written ${s.written}, already present ${s.alreadyPresent}, rejected ${s.rejected})` : '') +
          (f.error ? ` - ${f.error}` : ''),
      );
    }
    say(`published ${result.publish.published} event(s)`);

    say('waiting until the warehouse has caught up');
    const waited = await trackflow(['wait', '--caught-up', '--timeout', '900']);
    if (waited !== 0) return waited;
    await trackflow(['report', '--top', '5']);
    say(`reconcile:`);
    const reconciled = await trackflow(['reconcile']);
    const ui = `http://localhost:${cfg.temporal.uiPort}/namespaces/${cfg.temporal.namespace}/workflows`;
    say(`done in ${((Date.now() - started) / 1000).toFixed(1)}s. Temporal Web UI: ${ui}`);
    if (values.once) return reconciled === 0 && result.files.every((f) => f.status !== 'failed') ? 0 : 1;

    say('the stream keeps running; drop new exports and run `npx trackflow ingest --landing landing --wait`. Ctrl-C stops the workers.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    say('stopping the workers (in-flight activities commit or roll back first)');
    return 0;
  } finally {
    await stopWorkers();
    await connection.close();
  }
}

const program = newProgram('npm start', DESCRIPTION)
  .usage('[-- options]')
  .option('--once', 'exit (stopping the workers it started) once the warehouse has caught up')
  .option('--jobs <file>', 'a job export to load (required with --tracking)')
  .option('--tracking <path>', 'a tracking export, or a directory of them (*.csv, *.csv.gz), inside the landing directory or TRACKFLOW_INPUT_DIRS')
  .option('--events <n>', 'size of the generated sample', intRange(0, Number.MAX_SAFE_INTEGER), 20_000)
  .option('--seed <s>', 'seed of the generated sample', intRange(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), 42)
  .option('--stream-workers <n>', 'stream worker processes to start (docs/scaling.md)', intRange(1, 16), 1)
  .option('--pipeline-workers <n>', 'pipeline worker processes to start', intRange(1, 16), 1)
  .action(act(main));

void runProgram(program, process.argv.slice(2)).then((code) => process.exit(code));
