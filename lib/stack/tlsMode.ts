import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, setEnv, stackEnv } from '../config';
import { stateDir } from './paths';

/**
 * How the local stack treats TLS. `offered` (the default): every server accepts TLS with the stack's CA beside
 * its plaintext login. `required` (`npm run stack -- up --tls`, or TRACKFLOW_STACK_TLS=required): MariaDB
 * with require_secure_transport, Kafka's client listener SASL_SSL only, Cassandra with `optional: false`, and
 * the app's `.env` switched to TLS with the stack's CA.
 */
export type StackTlsMode = 'offered' | 'required';

const MODES: readonly StackTlsMode[] = ['offered', 'required'];

/** The mode the stack was last brought up in, so `status`, `down` and a later `up` agree with it. */
export function tlsModeFile(): string {
  return path.join(stateDir(), 'tls-mode');
}

function parseMode(source: string, value: string): StackTlsMode {
  const v = value.trim();
  if (!MODES.includes(v as StackTlsMode)) throw new Error(`${source} must be one of ${MODES.join(', ')} (got "${v.slice(0, 20)}")`);
  return v as StackTlsMode;
}

export function persistedTlsMode(): StackTlsMode | undefined {
  const file = tlsModeFile();
  return fs.existsSync(file) ? parseMode(file, fs.readFileSync(file, 'utf8')) : undefined;
}

/** TRACKFLOW_STACK_TLS if set, else the persisted mode, else `offered`. */
export function stackTlsMode(env?: Record<string, string | undefined>): StackTlsMode {
  const fromEnv = stackEnv(env).TRACKFLOW_STACK_TLS;
  if (fromEnv) return parseMode('TRACKFLOW_STACK_TLS', fromEnv);
  return persistedTlsMode() ?? 'offered';
}

export function persistTlsMode(mode: StackTlsMode): void {
  fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  fs.writeFileSync(tlsModeFile(), `${mode}\n`, { mode: 0o600 });
}

/**
 * Kafka's SASL_SSL port: in `required` mode the client port itself (there is no plaintext client listener);
 * otherwise the extra listener on TRACKFLOW_STACK_KAFKA_TLS_PORT (default client port + 2).
 */
export function kafkaTlsPort(
  clientPort: number,
  mode: StackTlsMode = stackTlsMode(),
  env?: Record<string, string | undefined>,
): number {
  if (mode === 'required') return clientPort;
  return stackEnv(env).TRACKFLOW_STACK_KAFKA_TLS_PORT ?? clientPort + 2;
}

const CLIENT_SERVICES = ['MYSQL', 'CASSANDRA', 'KAFKA'] as const;

/** The `.env` lines that point the app's MySQL, Cassandra and Kafka clients at the stack with (or without) TLS. */
export function clientTlsSettings(mode: StackTlsMode, caFile: string): Record<string, string | undefined> {
  const settings: Record<string, string | undefined> = {};
  for (const s of CLIENT_SERVICES) {
    settings[`TRACKFLOW_${s}_TLS`] = mode === 'required' ? 'true' : 'false';
    settings[`TRACKFLOW_${s}_TLS_CA_FILE`] = mode === 'required' ? caFile : undefined;
  }
  return settings;
}

/**
 * `text` (a `.env`) with each key of `settings` set: an existing line (commented out or not) is replaced, a
 * missing one appended; an undefined value comments the line out. Other lines are kept as they are.
 */
export function applyDotEnvSettings(text: string, settings: Record<string, string | undefined>): string {
  const pending = new Map(Object.entries(settings));
  const lines = text.split('\n').map((line) => {
    const m = /^\s*#?\s*(TRACKFLOW_[A-Z0-9_]+)\s*=/.exec(line);
    const key = m?.[1];
    if (!key || !pending.has(key)) return line;
    const value = pending.get(key);
    pending.delete(key);
    return value === undefined ? `# ${key}=` : `${key}=${value}`;
  });
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  for (const [key, value] of pending) if (value !== undefined) lines.push(`${key}=${value}`);
  if (trailing !== undefined) lines.push(trailing);
  return lines.join('\n');
}

/** Rewrites `.env` (0600, via a private temp file) and process.env with the client TLS settings of `mode`. */
export function switchClientTls(mode: StackTlsMode, caFile: string, target = path.join(REPO_ROOT, '.env')): void {
  const settings = clientTlsSettings(mode, caFile);
  const text = applyDotEnvSettings(fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '', settings);
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, target);
  for (const [key, value] of Object.entries(settings)) setEnv(key, value);
  process.stderr.write(`trackflow: .env clients switched to TLS ${mode === 'required' ? `on (CA ${caFile})` : 'off'}\n`);
}
