/**
 * `npm run bench -- --cluster`: the three stage throughputs (CSV -> Cassandra, Cassandra -> Kafka,
 * Kafka -> MySQL) on the single-node stack and on the cluster stack, in one run, same N and seed. The stack is
 * switched in between (`stack down`, then `stack up` with TRACKFLOW_STACK_TOPOLOGY), so only one topology runs
 * at a time on the machine; the run ends with the cluster up. Each topology's servers are this stack's own,
 * found by its pid files, and their CPU seconds over the stage run are reported beside the stage figures.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, config } from '../lib/config';
import { clientTopologySettings, type StackTopology } from '../lib/stack/topology';
import type { PipelineResult } from './pipeline';
import type { Log } from './platform';
import { readProc } from './resources';

/** The client settings a topology switch rewrites in .env: a child must read them from there, not inherit them. */
const TOPOLOGY_KEYS = Object.keys(clientTopologySettings('cluster', { cassandra: 9042, kafka: 9092 }));

export function topologyChildEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of TOPOLOGY_KEYS) delete env[key];
  return { ...env, ...extra };
}

function runStack(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const script = path.join(REPO_ROOT, 'scripts', 'stack.ts');
  return new Promise((resolve, reject) => {
    // The stack's own progress goes to stderr with the bench's log; stdout stays the bench's table.
    const p = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 2, 2] });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`stack ${args.join(' ')} exited with ${code}`))));
  });
}

/** Stops whatever topology runs and brings `topology` up; returns the seconds `up` took (existing data: a warm start). */
export async function switchTopology(topology: StackTopology, log: Log): Promise<number> {
  log(`== stack: down, then up as ${topology}`);
  await runStack(['down'], topologyChildEnv());
  const started = Date.now();
  await runStack(['up'], topologyChildEnv({ TRACKFLOW_STACK_TOPOLOGY: topology }));
  const seconds = Number(((Date.now() - started) / 1000).toFixed(1));
  log(`  ${topology} up in ${seconds} s`);
  return seconds;
}

/** CPU seconds so far of this stack's Cassandra and Kafka processes (every node), read from their pid files. */
export function serverCpuSeconds(): { cassandra: number; kafka: number } {
  const run = path.join(config().stateDir, 'run');
  const sum = (prefix: string) =>
    fs.readdirSync(run)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.pid'))
      .reduce((total, f) => total + (readProc(Number(fs.readFileSync(path.join(run, f), 'utf8').trim()))?.cpuSeconds ?? 0), 0);
  return { cassandra: sum('cassandra'), kafka: sum('kafka') };
}

export interface TopologyRun {
  topology: StackTopology;
  upSeconds: number;
  settings: Record<string, string | undefined>;
  pipeline: PipelineResult;
  /** CPU seconds of this stack's servers over the three stages (the child run), every node summed. */
  serverCpuSeconds: { cassandra: number; kafka: number };
}

/** One topology: switch the stack to it, run the stages in a child that reads the switched .env, and meter the servers. */
export async function runTopology(
  topology: StackTopology,
  runChild: (env: NodeJS.ProcessEnv) => Promise<PipelineResult>,
  log: Log,
): Promise<TopologyRun> {
  const upSeconds = await switchTopology(topology, log);
  const before = serverCpuSeconds();
  log(`== stages on ${topology}`);
  const pipeline = await runChild(topologyChildEnv());
  const after = serverCpuSeconds();
  const cpu = (k: 'cassandra' | 'kafka') => Number((after[k] - before[k]).toFixed(1));
  const settings = clientTopologySettings(topology, { cassandra: 0, kafka: 0 });
  delete settings['TRACKFLOW_CASSANDRA_CONTACT_POINTS'];
  delete settings['TRACKFLOW_KAFKA_BROKERS'];
  return { topology, upSeconds, settings, pipeline, serverCpuSeconds: { cassandra: cpu('cassandra'), kafka: cpu('kafka') } };
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** The side-by-side table: each stage's rate, time and worker CPU on both topologies, and the cluster's share of single. */
export function clusterSummary(single: TopologyRun, cluster: TopologyRun): string {
  const rows: Array<[string, (r: TopologyRun) => number, (r: TopologyRun) => string]> = [
    ['CSV->Cassandra rows/s', (r) => r.pipeline.ingest.perSecond, (r) => `${r.pipeline.ingest.usage.seconds.toFixed(1)} s, ${r.pipeline.ingest.usage.cpuSeconds.toFixed(1)} CPU s`],
    ['Cassandra->Kafka events/s', (r) => r.pipeline.publish.perSecond, (r) => `${r.pipeline.publish.usage.seconds.toFixed(1)} s, ${r.pipeline.publish.usage.cpuSeconds.toFixed(1)} CPU s`],
    ['Kafka->MySQL events/s', (r) => r.pipeline.consume.perSecond, (r) => `${r.pipeline.consume.usage.seconds.toFixed(1)} s, ${r.pipeline.consume.usage.cpuSeconds.toFixed(1)} CPU s`],
    ['end to end (in series) /s', (r) => r.pipeline.endToEnd.eventsPerSecond, (r) => `${r.pipeline.endToEnd.seconds.toFixed(1)} s`],
  ];
  const lines = [
    `stage (N=${n(single.pipeline.events)})`.padEnd(28) + 'single node'.padEnd(30) + 'cluster (RF 3, LOCAL_QUORUM, acks=all, min.insync 2)'.padEnd(56) + 'cluster/single',
  ];
  for (const [label, rate, detail] of rows) {
    const ratio = rate(single) ? (rate(cluster) / rate(single)).toFixed(2) : 'n/a';
    lines.push(label.padEnd(28) + `${n(rate(single))} (${detail(single)})`.padEnd(30) + `${n(rate(cluster))} (${detail(cluster)})`.padEnd(56) + ratio);
  }
  const cpu = (r: TopologyRun) => `Cassandra ${r.serverCpuSeconds.cassandra} CPU s, Kafka ${r.serverCpuSeconds.kafka} CPU s`;
  lines.push(`servers over the stages: single ${cpu(single)}; cluster ${cpu(cluster)} (every node)`);
  lines.push(`stack up (warm): single ${single.upSeconds} s, cluster ${cluster.upSeconds} s`);
  return lines.join('\n');
}
