/**
 * Worker cold start and idle memory, the way an operator starts them:
 *
 *   npx tsx bench/worker-start.ts [--rounds 3] [--idle 30]
 *
 * Spawns `npm run worker:pipeline` and `npm run worker:stream` (isolated task queues and free metrics ports,
 * so nothing else's tasks are picked up), times spawn -> the "Worker started" log line (printed once the
 * worker polls and /metrics answers), then reads the worker process's VmRSS after `--idle` seconds.
 * Needs the local stack and .env.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = path.resolve(__dirname, '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function children(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The descendant of `root` that runs the worker entry point (npm and sh sit in between). */
function workerPid(root: number, name: string): number | undefined {
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift() as number;
    const cmd = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmd.includes(`workers/${name}.`) && cmd.startsWith('node')) return pid;
    queue.push(...children(pid));
  }
  return undefined;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function once(name: 'pipeline' | 'stream', round: number, idleS: number): Promise<{ startS: number; rssMb: number }> {
  const port = 20000 + Math.floor(Math.random() * 9000);
  const env = {
    ...process.env,
    TRACKFLOW_TASK_QUEUE_PIPELINE: `bench-start-pipeline-${process.pid}-${round}`,
    TRACKFLOW_TASK_QUEUE_STREAM: `bench-start-stream-${process.pid}-${round}`,
    TRACKFLOW_PIPELINE_METRICS_PORT: String(port),
    TRACKFLOW_STREAM_METRICS_PORT: String(port),
  };
  const t0 = performance.now();
  const child = spawn('npm', ['run', '--silent', `worker:${name}`], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const started = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (/worker started/i.test(out)) resolve(performance.now() - t0);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker:${name} exited with ${code} before starting:\n${out.slice(-2000)}`)));
  });
  try {
    const startMs = await started;
    await sleep(idleS * 1000);
    const pid = workerPid(child.pid as number, name);
    if (!pid) throw new Error(`no worker process found under ${child.pid}`);
    return { startS: startMs / 1000, rssMb: rssMb(pid) };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(-(child.pid as number), 'SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const rounds = arg('rounds', 3);
  const idle = arg('idle', 30);
  for (const name of ['pipeline', 'stream'] as const) {
    const runs: Array<{ startS: number; rssMb: number }> = [];
    for (let r = 0; r < rounds; r++) {
      const res = await once(name, r, idle);
      runs.push(res);
      console.log(`worker:${name} run ${r + 1}: cold start ${res.startS.toFixed(2)} s, RSS after ${idle} s idle ${res.rssMb} MB`);
    }
    console.log(
      `worker:${name} median: cold start ${median(runs.map((x) => x.startS)).toFixed(2)} s, idle RSS ${median(runs.map((x) => x.rssMb))} MB`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
