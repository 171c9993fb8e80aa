import fs from 'node:fs';
import path from 'node:path';
import { isAlive, readPid, sleep, startDetached, stopProcess, which } from './proc';

export interface PrometheusOptions {
  /** Data, log and pid live under `<stateDir>/prometheus`, `<stateDir>/logs`, `<stateDir>/run`. */
  stateDir: string;
  /** host:port of Prometheus's web UI and API. */
  listen: string;
  /** host:port of each worker's /metrics. */
  targets: { pipeline: string; stream: string };
  rulesFile: string;
}

/** The native Prometheus config: ops/prometheus/prometheus.yml with this machine's ports and the rules' absolute path. */
export function prometheusConfig(o: Pick<PrometheusOptions, 'targets' | 'rulesFile'>): string {
  return [
    '# Written by `npm run stack -- up --observability` from ops/prometheus/prometheus.yml.',
    'global:',
    '  scrape_interval: 5s',
    '  evaluation_interval: 15s',
    'rule_files:',
    `  - ${JSON.stringify(o.rulesFile)}`,
    'scrape_configs:',
    ...(['pipeline', 'stream'] as const).flatMap((w) => [
      `  - job_name: trackflow-${w}`,
      '    static_configs:',
      `      - targets: [${JSON.stringify(o.targets[w])}]`,
      `        labels: { worker: ${w} }`,
    ]),
    '',
  ].join('\n');
}

function files(stateDir: string) {
  return {
    data: path.join(stateDir, 'prometheus'),
    config: path.join(stateDir, 'prometheus', 'prometheus.yml'),
    log: path.join(stateDir, 'logs', 'prometheus.log'),
    pid: path.join(stateDir, 'run', 'prometheus.pid'),
  };
}

async function ready(listen: string): Promise<boolean> {
  try {
    return (await fetch(`http://${listen}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** Starts Debian's prometheus (idempotent) and waits until it answers /-/ready. */
export async function startPrometheus(o: PrometheusOptions): Promise<{ pid: number; url: string; started: boolean }> {
  const binary = which('prometheus');
  if (!binary) throw new Error("prometheus not found: install Debian's prometheus package (apt-get install prometheus)");
  const f = files(o.stateDir);
  fs.mkdirSync(f.data, { recursive: true });
  fs.mkdirSync(path.dirname(f.pid), { recursive: true });
  fs.writeFileSync(f.config, prometheusConfig(o));
  const running = readPid(f.pid);
  if (isAlive(running) && (await ready(o.listen))) return { pid: running!, url: `http://${o.listen}`, started: false };
  const pid = startDetached({
    command: binary,
    args: [`--config.file=${f.config}`, `--storage.tsdb.path=${f.data}`, `--web.listen-address=${o.listen}`, '--storage.tsdb.retention.time=7d'],
    cwd: f.data,
    logFile: f.log,
    pidFile: f.pid,
  });
  for (let i = 0; i < 60; i++) {
    if (await ready(o.listen)) return { pid, url: `http://${o.listen}`, started: true };
    if (!isAlive(pid)) break;
    await sleep(500);
  }
  throw new Error(`prometheus did not become ready on ${o.listen}; see ${f.log}`);
}

/** Stops the Prometheus started by startPrometheus, if any. */
export async function stopPrometheus(stateDir: string): Promise<'stopped' | 'killed' | 'not-running'> {
  const f = files(stateDir);
  const pid = readPid(f.pid);
  if (!isAlive(pid)) return 'not-running';
  const r = await stopProcess(pid!, 10_000);
  fs.rmSync(f.pid, { force: true });
  return r;
}
