import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { ServiceUnavailable } from '../domain/errors';
import { isAlive, portInUse, readPid, sleep, startDetached, stopProcess, tailFile } from './proc';
import type { Service, ServiceName } from './services';
export type { ServiceName };
import { services } from './services';
import { stateDir } from './paths';
import { SERVICE_NAMES } from './names';

/** A service that did not come up or answer its health check. */
export class StackError extends ServiceUnavailable {
  constructor(
    readonly service: string,
    readonly failedCheck: string,
    readonly logFile: string,
    detail: string,
  ) {
    super(`${service}: ${failedCheck} failed: ${detail}\n  read the log: ${logFile}`);
  }
}

export interface ServiceStatus {
  /** The service's id: its name, or `name:n` for node n of a cluster. */
  service: string;
  state: 'healthy' | 'external' | 'unhealthy' | 'stopped';
  pid?: number;
  port: number;
  detail: string;
  log: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function probe(service: Service, cfg: Config): Promise<{ ok: true; detail: string } | { ok: false; detail: string }> {
  try {
    return { ok: true, detail: await service.health(cfg) };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

export async function status(cfg: Config): Promise<ServiceStatus[]> {
  return Promise.all(
    services(cfg).map(async (s): Promise<ServiceStatus> => {
      const pid = readPid(s.pidFile);
      const alive = isAlive(pid);
      const health = await probe(s, cfg);
      const state = health.ok ? (alive ? 'healthy' : 'external') : alive ? 'unhealthy' : 'stopped';
      return { service: s.id, state, pid: alive ? pid : undefined, port: s.port, detail: health.detail, log: s.logFile };
    }),
  );
}

async function waitHealthy(service: Service, cfg: Config, pid: number): Promise<string> {
  const check = service.ready ? { ...service, health: service.ready.bind(service) } : service;
  const deadline = Date.now() + service.startTimeoutMs;
  let last = 'not started';
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new StackError(service.id, 'process start', service.logFile, `the process exited early. Last log lines:\n${tailFile(service.logFile, 15)}`);
    }
    const health = await probe(check, cfg);
    if (health.ok) return health.detail;
    last = health.detail;
    await sleep(1000);
  }
  throw new StackError(service.id, service.check, service.logFile, `not healthy after ${service.startTimeoutMs / 1000}s (${last})`);
}

async function afterStartAndCheck(service: Service, cfg: Config): Promise<string> {
  try {
    await service.afterStart?.(cfg);
  } catch (err) {
    throw new StackError(service.id, 'post-start setup', service.logFile, (err as Error).message);
  }
  const health = await probe(service, cfg);
  if (!health.ok) throw new StackError(service.id, service.check, service.logFile, health.detail);
  return health.detail;
}

async function bringUp(service: Service, cfg: Config): Promise<string> {
  // Cheap once cached; also tells each service where its binaries are.
  try {
    service.provision();
  } catch (err) {
    throw new StackError(service.id, 'provisioning', service.logFile, (err as Error).message);
  }
  const pid = readPid(service.pidFile);
  if (isAlive(pid)) {
    const health = await probe(service, cfg);
    if (health.ok) return `already running (pid ${pid}): ${health.detail}`;
    // Ours but not yet answering (a previous `up` still starting): wait for it rather than start twice.
    await waitHealthy(service, cfg, pid as number);
    return `running (pid ${pid}): ${await afterStartAndCheck(service, cfg)}`;
  }
  if (await portInUse(service.port, service.host)) {
    const health = await probe(service, cfg);
    if (health.ok) return `served by an external process on port ${service.port}: ${health.detail}`;
    throw new StackError(service.id, `port ${service.port} check`, service.logFile,
      `port ${service.port} on ${service.host} is already in use by another process that does not answer as ${service.id} (${health.detail})`);
  }
  let spec;
  try {
    spec = service.prepare();
  } catch (err) {
    throw new StackError(service.id, 'preparing storage and configuration', service.logFile, (err as Error).message);
  }
  fs.mkdirSync(path.dirname(service.pidFile), { recursive: true });
  const newPid = startDetached({ ...spec, logFile: service.logFile, pidFile: service.pidFile });
  log(`  ${service.id}: started (pid ${newPid}), waiting for ${service.check}`);
  await waitHealthy(service, cfg, newPid);
  return afterStartAndCheck(service, cfg);
}

/**
 * The state directory holds data, logs, pid files and the stack's own secrets: 0700, and every file the
 * stack or its servers create in it 0600 (the umask is inherited by the servers).
 */
export function privateStateDir(): void {
  process.umask(0o077);
  fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  fs.chmodSync(stateDir(), 0o700);
}

/** The services `only` names (a name: every node of it; `name:n`: node n), or all of them. */
export function selectServices(all: Service[], only?: string[]): Service[] {
  return all.filter((s) => !only || only.includes(s.name) || only.includes(s.id));
}

/**
 * Provisions and starts every selected service (in parallel, except that a service waits for its `startAfter`
 * when both are selected: Cassandra nodes join one at a time), waiting for real health. Idempotent.
 */
export async function up(cfg: Config, only?: string[]): Promise<void> {
  privateStateDir();
  const selected = selectServices(services(cfg), only);
  log(`trackflow stack: state in ${stateDir()}, downloads cached in ${cfg.cacheDir}`);
  const started = Date.now();
  const running = new Map<string, Promise<void>>();
  for (const s of selected) {
    const before = s.startAfter ? running.get(s.startAfter) : undefined;
    running.set(s.id, (async () => {
      await before;
      const detail = await bringUp(s, cfg);
      log(`  ${s.id}: healthy - ${detail}`);
    })());
  }
  const results = await Promise.allSettled(running.values());
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
  if (failures.length) {
    for (const f of failures) log(`\nFAILED ${f.message}`);
    throw failures[0];
  }
  log(`trackflow stack: all services healthy in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

export async function down(cfg: Config, only?: string[]): Promise<void> {
  const selected = selectServices(services(cfg), only);
  await Promise.all(
    selected.map(async (s) => {
      const pid = readPid(s.pidFile);
      if (!pid) {
        log(`  ${s.id}: not running`);
        return;
      }
      const result = await stopProcess(pid, s.stopGraceMs);
      fs.rmSync(s.pidFile, { force: true });
      log(`  ${s.id}: ${result}`);
    }),
  );
}

export async function reset(cfg: Config): Promise<void> {
  await down(cfg);
  for (const s of services(cfg)) fs.rmSync(s.dataDir, { recursive: true, force: true });
  fs.rmSync(path.join(stateDir(), 'kafka-cluster-id'), { force: true });
  fs.rmSync(path.join(stateDir(), 'logs'), { recursive: true, force: true });
  log(`  removed data and logs under ${stateDir()} (downloads kept in ${cfg.cacheDir})`);
}

/** The log of a service id (`kafka:2`); a bare name on a cluster means its node 1. */
export function logFileOf(cfg: Config, name: string): string | undefined {
  const all = services(cfg);
  return (all.find((s) => s.id === name) ?? all.find((s) => s.name === name))?.logFile;
}

/** The pid of a running service (`cassandra:2`), for fault tests that kill -9 one node. */
export function pidOf(cfg: Config, id: string): number | undefined {
  const s = services(cfg).find((x) => x.id === id);
  const pid = s ? readPid(s.pidFile) : undefined;
  return isAlive(pid) ? pid : undefined;
}

export { SERVICE_NAMES };
