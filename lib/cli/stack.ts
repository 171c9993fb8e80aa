import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { config, loadConfig } from '../config';
import { ensureDotEnv } from '../dotenv';
import type { ServiceName } from '../stack/services';
import { SERVICE_NAMES, StackError, down, logFileOf, privateStateDir, reset, status, up } from '../stack/stack';
import { isAlive, readPid, tailFile } from '../stack/proc';
import { services as stackServices } from '../stack/services';
import { stackCerts } from '../stack/tls';
import type { StackTlsMode } from '../stack/tlsMode';
import { persistTlsMode, persistedTlsMode, stackTlsMode, switchClientTls } from '../stack/tlsMode';
import { startPrometheus, stopPrometheus } from '../stack/observability';
import type { StackTopology } from '../stack/topology';
import { applyTopology, stackTopology } from '../stack/topology';
import { REPO_ROOT } from '../config';
import type { Command } from './command';
import { EXIT, UsageError, output } from './command';

const help = `Usage: trackflow stack <up|down|status|logs|reset> [options]

Runs the real servers on 127.0.0.1 without Docker: Cassandra 5 (9042), Kafka 4 KRaft (9092),
MariaDB (3306) and the Temporal dev server (7233, Web UI 8233). Downloads are cached in
\${XDG_CACHE_HOME:-~/.cache}/trackflow; data and logs live in \${XDG_STATE_HOME:-~/.local/state}/trackflow.

  up [service...] [--observability] [--tls] [--cluster]
                        provision (first run downloads), start and wait for health; no-op when running.
                        --tls (or TRACKFLOW_STACK_TLS=required): strict TLS mode, kept for later commands
                        (TRACKFLOW_STACK_TLS=offered goes back): MariaDB require_secure_transport, Kafka's
                        client listener SASL_SSL only, Cassandra client encryption required, and .env's
                        MySQL/Cassandra/Kafka clients switched to TLS with the stack's CA
                        --cluster (or TRACKFLOW_STACK_TOPOLOGY=cluster): three Kafka KRaft nodes (client ports
                        base, base+10, base+20) and three Cassandra nodes (127.0.0.1-3), topics RF 3 with
                        min.insync.replicas 2, the lake RF 3 at LOCAL_QUORUM; kept for later commands, and
                        .env's clients switched to every node (TRACKFLOW_STACK_TOPOLOGY=single goes back)
                        --observability also runs Debian's prometheus against both workers with the
                        alert rules of ops/prometheus (UI on 127.0.0.1:\${TRACKFLOW_STACK_PROMETHEUS_PORT:-9090})
  down [service...]     stop the servers (SIGTERM, then SIGKILL after a grace period)
  status [--json]       health of each service; exit 1 unless all are healthy
  logs <service>[:n] [-n N] [-f]  print (or follow) a service's log (node n of a cluster)
  reset                 stop everything and delete data and logs (downloads are kept)

Services: ${SERVICE_NAMES.join(', ')}; on a cluster cassandra:1..3 and kafka:1..3 name one node.
Ports and credentials come from the environment (.env; see .env.example).`;

function services(names: string[]): string[] | undefined {
  if (!names.length) return undefined;
  for (const n of names) if (!SERVICE_NAMES.includes(n.replace(/:\d+$/, '') as ServiceName)) throw new UsageError(`unknown service "${n}"`);
  return names;
}

export const command: Command = {
  name: 'stack',
  summary: 'Provision and run the local Cassandra, Kafka, MariaDB and Temporal servers',
  help,
  async run(argv) {
    if (!argv.length) {
      process.stdout.write(help + '\n');
      return EXIT.usage;
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          json: { type: 'boolean' },
          lines: { type: 'string', short: 'n' },
          follow: { type: 'boolean', short: 'f' },
          observability: { type: 'boolean' },
          tls: { type: 'boolean' },
          cluster: { type: 'boolean' },
        },
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    const [action, ...rest] = positionals;
    ensureDotEnv();
    let cfg = config();
    try {
      switch (action) {
        case 'up':
          cfg = applyTlsMode(cfg, values.tls ? 'required' : stackTlsMode());
          cfg = applyStackTopology(cfg, values.cluster ? 'cluster' : stackTopology());
          await up(cfg, services(rest));
          if (values.observability) await upObservability(cfg);
          return EXIT.ok;
        case 'down':
          await down(cfg, services(rest));
          if (!rest.length) await stopPrometheus(cfg.stateDir);
          return EXIT.ok;
        case 'reset':
          await reset(cfg);
          return EXIT.ok;
        case 'status': {
          const rows = await status(cfg);
          output(Boolean(values.json), rows, () =>
            rows
              .map((r) => `${r.service.padEnd(10)} ${r.state.padEnd(9)} port ${String(r.port).padEnd(5)} ${r.pid ? `pid ${r.pid}` : ''}\n           ${r.detail}\n           log: ${r.log}`)
              .join('\n'),
          );
          return rows.every((r) => r.state === 'healthy' || r.state === 'external') ? EXIT.ok : EXIT.failed;
        }
        case 'logs': {
          const name = rest[0];
          if (!name) throw new UsageError('logs needs a service name');
          services([name]);
          const file = logFileOf(cfg, name);
          if (!file) throw new UsageError(`no service "${name}" in this topology`);
          if (values.follow) {
            const child = spawn('tail', ['-n', values.lines ?? '100', '-F', file], { stdio: 'inherit' });
            await new Promise((resolve) => child.on('exit', resolve));
            return EXIT.ok;
          }
          process.stdout.write(tailFile(file, Number(values.lines ?? 200)) + '\n');
          return EXIT.ok;
        }
        default:
          throw new UsageError(`unknown action "${action}"`);
      }
    } catch (err) {
      if (err instanceof StackError) return EXIT.unavailable;
      throw err;
    }
  },
};

/**
 * Persists the TLS mode `up` runs the stack in (so `status`, `down` and a later `up` agree), switches `.env`'s
 * clients when the mode changes, and returns the configuration reloaded with them. A running stack keeps the
 * mode it was started in: changing it needs a `down` first.
 */
function applyTlsMode(cfg: ReturnType<typeof config>, mode: StackTlsMode): ReturnType<typeof config> {
  const previous = persistedTlsMode() ?? 'offered';
  if (mode !== previous && stackServices(cfg, previous).some((s) => isAlive(readPid(s.pidFile)))) {
    throw new UsageError(`the stack is running with TLS ${previous}; run \`npm run stack -- down\` before switching it to TLS ${mode}`);
  }
  process.env['TRACKFLOW_STACK_TLS'] = mode;
  if (mode === 'offered' && previous === 'offered') return cfg;
  privateStateDir();
  persistTlsMode(mode);
  const ca = stackCerts().ca;
  const clients = [cfg.mysql.tls, cfg.cassandra.tls, cfg.kafka.tls];
  if (mode === 'required' && clients.every((t) => t.enabled && t.caFile === ca)) return cfg;
  switchClientTls(mode, ca);
  return loadConfig(process.env);
}

/** The topology `up` brings the stack up in (lib/stack/topology.ts), with the configuration reloaded after a switch. */
function applyStackTopology(cfg: ReturnType<typeof config>, topology: StackTopology): ReturnType<typeof config> {
  privateStateDir();
  const running = (t: StackTopology) => stackServices(cfg, undefined, t).some((s) => isAlive(readPid(s.pidFile)));
  try {
    return applyTopology(topology, { contactPoints: cfg.cassandra.contactPoints, brokers: cfg.kafka.brokers, running }) ? loadConfig(process.env) : cfg;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function upObservability(cfg: ReturnType<typeof config>): Promise<void> {
  const port = process.env['TRACKFLOW_STACK_PROMETHEUS_PORT']?.trim() || '9090';
  const p = await startPrometheus({
    stateDir: cfg.stateDir,
    listen: `127.0.0.1:${port}`,
    targets: { pipeline: `127.0.0.1:${cfg.metrics.pipelinePort}`, stream: `127.0.0.1:${cfg.metrics.streamPort}` },
    rulesFile: path.join(REPO_ROOT, 'ops', 'prometheus', 'alerts.yml'),
  });
  process.stderr.write(`prometheus ${p.started ? 'started' : 'already running'} (pid ${p.pid}): ${p.url} (alerts: ${p.url}/alerts)\n`);
}
