import path from 'node:path';
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { REPO_ROOT, config, setEnv, stackEnv } from '../../lib/config';
import { ensureDotEnv } from '../../lib/dotenv';
import type { ServiceName } from '../../lib/stack/services';
import { SERVICE_NAMES } from '../../lib/stack/names';
import type { StackTlsMode } from '../../lib/stack/tlsMode';
import { persistTlsMode, persistedTlsMode, stackTlsMode, switchClientTls } from '../../lib/stack/tlsMode';
import type { StackTopology } from '../../lib/stack/topology';
import { applyTopology, stackTopology } from '../../lib/stack/topology';
import { EXIT, UsageError, act, group, output, positiveInt } from './command';

const DETAILS = `
Runs the real servers on 127.0.0.1 without Docker: Cassandra 5 (9042), Kafka 4 KRaft (9092),
MariaDB (3306) and the Temporal dev server (7233, Web UI 8233). Downloads are cached in
\${XDG_CACHE_HOME:-~/.cache}/trackflow; data and logs live in \${XDG_STATE_HOME:-~/.local/state}/trackflow.

up --tls (or TRACKFLOW_STACK_TLS=required) runs a strict TLS mode, kept for later commands
(TRACKFLOW_STACK_TLS=offered goes back): MariaDB require_secure_transport, Kafka's client listener SASL_SSL
only, Cassandra client encryption required, and .env's MySQL/Cassandra/Kafka clients switched to TLS with the
stack's CA. up --observability also runs Debian's prometheus against both workers with the alert rules of
ops/prometheus (UI on 127.0.0.1:\${TRACKFLOW_STACK_PROMETHEUS_PORT:-9090}).

up --cluster (or TRACKFLOW_STACK_TOPOLOGY=cluster) runs three Kafka KRaft nodes (client ports base, base+10,
base+20) and three Cassandra nodes (127.0.0.1-3), topics RF 3 with min.insync.replicas 2, the lake RF 3 at
LOCAL_QUORUM; kept for later commands, and .env's clients switched to every node
(TRACKFLOW_STACK_TOPOLOGY=single goes back).

Services: ${SERVICE_NAMES.join(', ')}; on a cluster cassandra:1..3 and kafka:1..3 name one node.
Ports and credentials come from the environment (.env; see .env.example).
Exit status: 0 ok, 1 status found a service unhealthy, 2 bad usage, 3 a service did not come up.`;

/** A service name, or `name:n` for node n of a cluster. */
function serviceName(value: string): string {
  if (!SERVICE_NAMES.includes(value.replace(/:\d+$/, '') as ServiceName)) throw new InvalidArgumentError(`unknown service (${SERVICE_NAMES.join(', ')})`);
  return value;
}

function services(names: string[]): string[] | undefined {
  return names.length ? names : undefined;
}

function stackConfig(): ReturnType<typeof config> {
  ensureDotEnv();
  return config();
}

// The code that provisions and checks the servers loads every client library: only a sub-command that runs loads it.
const stackLib = () => import('../../lib/stack/stack');

async function statusCommand(opts: { json?: boolean }): Promise<number> {
  const rows = await (await stackLib()).status(stackConfig());
  output(Boolean(opts.json), rows, () =>
    rows
      .map((r) => `${r.service.padEnd(12)} ${r.state.padEnd(9)} port ${String(r.port).padEnd(5)} ${r.pid ? `pid ${r.pid}` : ''}\n             ${r.detail}\n             log: ${r.log}`)
      .join('\n'),
  );
  return rows.every((r) => r.state === 'healthy' || r.state === 'external') ? EXIT.ok : EXIT.failed;
}

async function logsCommand(name: string, opts: { lines?: number; follow?: boolean }): Promise<number> {
  const { logFileOf } = await stackLib();
  const { tailFile } = await import('../../lib/stack/proc');
  const file = logFileOf(stackConfig(), name);
  if (!file) throw new UsageError(`no service "${name}" in this topology`);
  if (opts.follow) {
    const child = spawn('tail', ['-n', String(opts.lines ?? 100), '-F', file], { stdio: 'inherit' });
    await new Promise((resolve) => child.on('exit', resolve));
    return EXIT.ok;
  }
  process.stdout.write(tailFile(file, opts.lines ?? 200) + '\n');
  return EXIT.ok;
}

/** The stack's sub-commands, under `trackflow stack` and `npm run stack --` alike. */
export function defineStackCommands(stack: Command): void {
  stack.addHelpText('after', DETAILS);
  stack
    .command('up')
    .description('provision (first run downloads), start and wait for health; no-op when running')
    .argument('[service...]', 'only these services', (v: string, prev: string[] = []) => [...prev, serviceName(v)])
    .option('--observability', 'also run prometheus against both workers with the alert rules of ops/prometheus')
    .option('--tls', 'strict TLS mode (kept for later commands)')
    .option('--cluster', 'three Kafka and three Cassandra nodes with RF 3 (kept for later commands)')
    .action(act(async (names: string[] = [], opts: { observability?: boolean; tls?: boolean; cluster?: boolean }) => {
      const tlsCfg = await applyTlsMode(stackConfig(), opts.tls ? 'required' : stackTlsMode());
      const cfg = await applyStackTopology(tlsCfg, opts.cluster ? 'cluster' : stackTopology());
      await (await stackLib()).up(cfg, services(names));
      if (opts.observability) await upObservability(cfg);
      return EXIT.ok;
    }));
  stack
    .command('down')
    .description('stop the servers (SIGTERM, then SIGKILL after a grace period)')
    .argument('[service...]', 'only these services', (v: string, prev: string[] = []) => [...prev, serviceName(v)])
    .action(act(async (names: string[] = []) => {
      const cfg = stackConfig();
      await (await stackLib()).down(cfg, services(names));
      if (!names.length) await (await import('../../lib/stack/observability')).stopPrometheus(cfg.stateDir);
      return EXIT.ok;
    }));
  stack.command('status').description('health of each service; exit 1 unless all are healthy').option('--json', 'print JSON').action(act(statusCommand));
  stack
    .command('logs')
    .description("print (or follow) a service's log (name:n for node n of a cluster)")
    .argument('<service>', `${SERVICE_NAMES.join(', ')}; cassandra:n, kafka:n`, serviceName)
    .option('-n, --lines <n>', 'lines to print (default 200; 100 with -f)', positiveInt)
    .option('-f, --follow', 'follow the log')
    .action(act(logsCommand));
  stack
    .command('reset')
    .description('stop everything and delete data and logs (downloads are kept)')
    .action(act(async () => {
      await (await stackLib()).reset(stackConfig());
      return EXIT.ok;
    }));
}

export function defineStack(program: Command): void {
  defineStackCommands(group(program, 'stack', 'Provision and run the local Cassandra, Kafka, MariaDB and Temporal servers'));
}

/**
 * Persists the TLS mode `up` runs the stack in (so `status`, `down` and a later `up` agree), switches `.env`'s
 * clients when the mode changes, and returns the configuration reloaded with them. A running stack keeps the
 * mode it was started in: changing it needs a `down` first.
 */
async function applyTlsMode(cfg: ReturnType<typeof config>, mode: StackTlsMode): Promise<ReturnType<typeof config>> {
  const { services: stackServices } = await import('../../lib/stack/services');
  const { isAlive, readPid } = await import('../../lib/stack/proc');
  const { stackCerts } = await import('../../lib/stack/tls');
  const previous = persistedTlsMode() ?? 'offered';
  if (mode !== previous && stackServices(cfg, previous).some((s) => isAlive(readPid(s.pidFile)))) {
    throw new UsageError(`the stack is running with TLS ${previous}; run \`npm run stack -- down\` before switching it to TLS ${mode}`);
  }
  setEnv('TRACKFLOW_STACK_TLS', mode);
  if (mode === 'offered' && previous === 'offered') return cfg;
  (await stackLib()).privateStateDir();
  persistTlsMode(mode);
  const ca = stackCerts().ca;
  const clients = [cfg.mysql.tls, cfg.cassandra.tls, cfg.kafka.tls];
  if (mode === 'required' && clients.every((t) => t.enabled && t.caFile === ca)) return cfg;
  switchClientTls(mode, ca);
  return config();
}

/** The topology `up` brings the stack up in (lib/stack/topology.ts), with the configuration reloaded after a switch. */
async function applyStackTopology(cfg: ReturnType<typeof config>, topology: StackTopology): Promise<ReturnType<typeof config>> {
  const { services: stackServices } = await import('../../lib/stack/services');
  const { isAlive, readPid } = await import('../../lib/stack/proc');
  (await stackLib()).privateStateDir();
  const running = (t: StackTopology) => stackServices(cfg, undefined, t).some((s) => isAlive(readPid(s.pidFile)));
  try {
    return applyTopology(topology, { contactPoints: cfg.cassandra.contactPoints, brokers: cfg.kafka.brokers, running }) ? config() : cfg;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function upObservability(cfg: ReturnType<typeof config>): Promise<void> {
  const port = stackEnv().TRACKFLOW_STACK_PROMETHEUS_PORT;
  const { startPrometheus } = await import('../../lib/stack/observability');
  const p = await startPrometheus({
    stateDir: cfg.stateDir,
    listen: `127.0.0.1:${port}`,
    targets: { pipeline: `127.0.0.1:${cfg.metrics.pipelinePort}`, stream: `127.0.0.1:${cfg.metrics.streamPort}` },
    rulesFile: path.join(REPO_ROOT, 'ops', 'prometheus', 'alerts.yml'),
  });
  process.stderr.write(`prometheus ${p.started ? 'started' : 'already running'} (pid ${p.pid}): ${p.url} (alerts: ${p.url}/alerts)\n`);
}
