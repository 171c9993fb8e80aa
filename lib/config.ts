import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TASK_QUEUES } from './taskQueues';

/** Where the repository lives; every relative default is resolved against it, not the caller's cwd. */
export const REPO_ROOT = path.resolve(__dirname, '..');

export interface TlsConfig {
  enabled: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  rejectUnauthorized: boolean;
  /** Name the server certificate must carry when it differs from the host dialled (e.g. an IP contact point). */
  servername?: string;
}

/** A login: user name and secret, both from the environment. */
export interface Credential {
  username: string;
  password: string;
}

/**
 * The one pattern every keyspace, database and table name must match before it reaches a CQL or SQL
 * statement (they cannot be bound as parameters), and the one for Kafka topic and group names.
 */
export const SQL_IDENTIFIER = /^[a-z][a-z0-9_]{0,47}$/;
export const KAFKA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Throws a one-line error when a name that is spliced into a statement is not a plain identifier. */
export function assertIdentifier(what: string, value: string, pattern: RegExp = SQL_IDENTIFIER): string {
  if (!pattern.test(value)) throw new ConfigError(`${what} "${value.slice(0, 80)}" is not a valid name (must match ${pattern.source})`);
  return value;
}

/** Values of the committed example that must never protect a running server. */
export const PLACEHOLDER_SECRET = /change-?me/i;

/** Secrets only migrations and the stack need; workers never receive them. */
export const ADMIN_SECRET_KEYS = [
  'TRACKFLOW_MYSQL_ADMIN_PASSWORD',
  'TRACKFLOW_CASSANDRA_ADMIN_PASSWORD',
  'TRACKFLOW_KAFKA_ADMIN_PASSWORD',
  'TRACKFLOW_KAFKA_BENCH_PASSWORD',
  'TRACKFLOW_CASSANDRA_SUPERUSER_PASSWORD',
  'TRACKFLOW_KAFKA_BROKER_PASSWORD',
] as const;

export interface CassandraConfig {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  replicationFactor: number;
  username?: string;
  password?: string;
  /** The migration role: creates keyspaces and tables and grants the app role on them. */
  admin?: Credential;
  tls: TlsConfig;
  /** Consistency of reads and writes, and of lightweight transactions' Paxos phase (see replicationSettings). */
  consistency: CassandraConsistency;
  serialConsistency: CassandraSerialConsistency;
}

export type KafkaRole = 'admin' | 'publisher' | 'stream' | 'bench';

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  topic: string;
  deadLetterTopic: string;
  partitions: number;
  consumerGroup: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Per-component SASL users (least privilege); a role without one falls back to `sasl`. */
  users: Partial<Record<KafkaRole, Credential>>;
  tls: TlsConfig;
  /** Replication of the topics trackflow creates; unset: the broker's defaults. */
  replicationFactor?: number;
  minInsyncReplicas?: number;
}

export interface MysqlConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  adminUser: string;
  /** Only migrations and the stack read it; absent in worker processes. */
  adminPassword?: string;
  tls: TlsConfig;
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  uiPort: number;
  /** Overridable so tests and side-by-side deployments do not steal each other's tasks. */
  taskQueues: { pipeline: string; stream: string };
  tls: TlsConfig;
}

/** Per-file limits of the tracking ingest and the job loader (docs/reliability.md). */
export interface IngestLimitsConfig {
  maxRecordBytes: number;
  maxRecordFields: number;
  maxDecompressedBytes: number;
  maxRejects: number;
  maxRejectRatio: number;
  rejectRatioMinRecords: number;
  heartbeatMs: number;
}

/** Horizontal scale: consumers, concurrency and worker capacity (docs/scaling.md). */
export interface ScaleConfig {
  /** Cap on the default stream consumer count, which is the partition count capped by this. */
  maxConsumers: number;
  /** Files one ingest run ingests at once. */
  maxConcurrentFiles: number;
  /** publishPending activities one ingest run runs at once, each over its share of the pending batches. */
  maxConcurrentPublishes: number;
  /** maxConcurrentActivityTaskExecutions of a stream worker (consumer leases it runs at once). */
  streamWorkerActivities: number;
  /** maxConcurrentActivityTaskExecutions of a pipeline worker. */
  pipelineWorkerActivities: number;
}

export interface Config {
  ingest: IngestLimitsConfig;
  scale: ScaleConfig;
  cassandra: CassandraConfig;
  kafka: KafkaConfig;
  mysql: MysqlConfig;
  temporal: TemporalConfig;
  landingDir: string;
  /** Directories activities may read from: the landing directory, its jobs/ and TRACKFLOW_INPUT_DIRS. */
  inputDirs: string[];
  /** TRACKFLOW_ENV=production: insecure switches are refused instead of warned about. */
  production: boolean;
  stateDir: string;
  cacheDir: string;
  metrics: { pipelinePort: number; streamPort: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function str(env: Env, key: string, fallback?: string): string {
  const value = env[key]?.trim();
  if (value) return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${key} is not set (copy .env.example to .env, or export it)`);
}

function optional(env: Env, key: string): string | undefined {
  const value = env[key]?.trim();
  return value ? value : undefined;
}

function int(env: Env, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optional(env, key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return n;
}

function ratio(env: Env, key: string, fallback: number): number {
  const raw = optional(env, key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(`${key} must be a number between 0 and 1, got "${raw}"`);
  return n;
}

function ingestLimits(env: Env): IngestLimitsConfig {
  return {
    maxRecordBytes: int(env, 'TRACKFLOW_INGEST_MAX_RECORD_BYTES', 1 << 20, 1024, 64 << 20),
    maxRecordFields: int(env, 'TRACKFLOW_INGEST_MAX_RECORD_FIELDS', 1000, 30, 100_000),
    maxDecompressedBytes: int(env, 'TRACKFLOW_INGEST_MAX_DECOMPRESSED_BYTES', 64 * 1024 ** 3, 1024),
    maxRejects: int(env, 'TRACKFLOW_INGEST_MAX_REJECTS', 10_000, 0),
    maxRejectRatio: ratio(env, 'TRACKFLOW_INGEST_MAX_REJECT_RATIO', 0.5),
    rejectRatioMinRecords: int(env, 'TRACKFLOW_INGEST_REJECT_RATIO_MIN_RECORDS', 1000, 1),
    heartbeatMs: int(env, 'TRACKFLOW_INGEST_HEARTBEAT_MS', 5000, 100, 60_000),
  };
}

function scaleLimits(env: Env): ScaleConfig {
  return {
    maxConsumers: int(env, 'TRACKFLOW_STREAM_MAX_CONSUMERS', 6, 1, 256),
    maxConcurrentFiles: int(env, 'TRACKFLOW_INGEST_MAX_CONCURRENT_FILES', 2, 1, 64),
    maxConcurrentPublishes: int(env, 'TRACKFLOW_PUBLISH_MAX_CONCURRENT', 2, 1, 64),
    streamWorkerActivities: int(env, 'TRACKFLOW_STREAM_WORKER_ACTIVITIES', 6, 1, 256),
    pipelineWorkerActivities: int(env, 'TRACKFLOW_PIPELINE_WORKER_ACTIVITIES', 4, 1, 256),
  };
}

/** The stream's consumer count when none is asked for: one per partition, at most scale.maxConsumers. */
export function defaultConsumers(cfg: Pick<Config, 'kafka' | 'scale'>): number {
  return Math.max(1, Math.min(cfg.kafka.partitions, cfg.scale.maxConsumers));
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = optional(env, key)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

function list(env: Env, key: string, fallback: string): string[] {
  return str(env, key, fallback)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function tls(env: Env, prefix: string, production: boolean): TlsConfig {
  const rejectUnauthorized = bool(env, `${prefix}_TLS_REJECT_UNAUTHORIZED`, true);
  if (!rejectUnauthorized && production) {
    throw new ConfigError(`${prefix}_TLS_REJECT_UNAUTHORIZED=false is refused with TRACKFLOW_ENV=production`);
  }
  return {
    enabled: bool(env, `${prefix}_TLS`, false),
    caFile: optional(env, `${prefix}_TLS_CA_FILE`),
    certFile: optional(env, `${prefix}_TLS_CERT_FILE`),
    keyFile: optional(env, `${prefix}_TLS_KEY_FILE`),
    rejectUnauthorized,
    servername: optional(env, `${prefix}_TLS_SERVERNAME`),
  };
}

/** Refuses any TRACKFLOW_*PASSWORD that is still the committed example's placeholder. */
function refusePlaceholderSecrets(env: Env): void {
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('TRACKFLOW_') || !key.endsWith('PASSWORD') || !value) continue;
    if (PLACEHOLDER_SECRET.test(value)) {
      throw new ConfigError(
        `${key} is the example placeholder "${value.slice(0, 20)}"; remove the line from .env and run \`npm run stack -- up\` to generate a random one`,
      );
    }
  }
}

function credential(env: Env, prefix: string, defaultUser: string): Credential | undefined {
  const password = optional(env, `${prefix}_PASSWORD`);
  return password ? { username: str(env, `${prefix}_USERNAME`, defaultUser), password } : undefined;
}

function kafkaUsers(env: Env): Partial<Record<KafkaRole, Credential>> {
  const users: Partial<Record<KafkaRole, Credential>> = {};
  const defaults: Record<KafkaRole, string> = {
    admin: 'trackflow_kafka_admin',
    publisher: 'trackflow_publisher',
    stream: 'trackflow_stream',
    bench: 'trackflow_bench',
  };
  for (const role of Object.keys(defaults) as KafkaRole[]) {
    const c = credential(env, `TRACKFLOW_KAFKA_${role.toUpperCase()}`, defaults[role]);
    if (c) users[role] = c;
  }
  return users;
}

function kafkaSasl(env: Env, users: Partial<Record<KafkaRole, Credential>>): KafkaConfig['sasl'] {
  const mechanism = optional(env, 'TRACKFLOW_KAFKA_SASL_MECHANISM');
  if (!mechanism) return undefined;
  if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(mechanism)) {
    throw new ConfigError(`TRACKFLOW_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512`);
  }
  const m = mechanism as 'plain' | 'scram-sha-256' | 'scram-sha-512';
  const explicit = optional(env, 'TRACKFLOW_KAFKA_SASL_USERNAME');
  if (!explicit && users.admin) return { mechanism: m, ...users.admin };
  if (!explicit) return undefined;
  return { mechanism: m, username: explicit, password: str(env, 'TRACKFLOW_KAFKA_SASL_PASSWORD') };
}

/** The Kafka settings of one component: its own SASL user when one is configured. */
export function kafkaFor(cfg: KafkaConfig, role: KafkaRole): KafkaConfig {
  const user = cfg.users[role];
  const mechanism = cfg.sasl?.mechanism ?? 'scram-sha-512';
  return user ? { ...cfg, sasl: { mechanism, ...user } } : cfg;
}

function inputDirs(env: Env, landingDir: string): string[] {
  const extra = (optional(env, 'TRACKFLOW_INPUT_DIRS') ?? '').split(path.delimiter).filter(Boolean);
  const jobsDir = optional(env, 'TRACKFLOW_JOBS_DIR');
  return [landingDir, ...(jobsDir ? [jobsDir] : []), ...extra].map((d) => path.resolve(REPO_ROOT, d));
}

// ---- Replication and consistency (docs/deploy.md "Clustered Kafka and Cassandra") ----
export const CASSANDRA_CONSISTENCIES = ['ONE', 'TWO', 'THREE', 'QUORUM', 'LOCAL_QUORUM', 'EACH_QUORUM', 'LOCAL_ONE', 'ALL'] as const;
export type CassandraConsistency = (typeof CASSANDRA_CONSISTENCIES)[number];
export type CassandraSerialConsistency = 'SERIAL' | 'LOCAL_SERIAL';

/** Replicas a level waits for at replication factor `rf`. */
export function replicasFor(level: CassandraConsistency, rf: number): number {
  const quorum = Math.floor(rf / 2) + 1;
  const n: Record<CassandraConsistency, number> = { ONE: 1, LOCAL_ONE: 1, TWO: 2, THREE: 3, QUORUM: quorum, LOCAL_QUORUM: quorum, EACH_QUORUM: quorum, ALL: rf };
  return n[level];
}

/**
 * Consistency levels (default ONE at replication factor 1, LOCAL_QUORUM above it) and Kafka topic replication,
 * validated together: a level needing more replicas than exist never succeeds, a level below a quorum on a
 * replicated lake loses acknowledged writes with one node, and min.insync.replicas equal to the replication
 * factor stops all writes with one broker down.
 */
function replicationSettings(env: Env, rf: number) {
  const consistency = optional(env, 'TRACKFLOW_CASSANDRA_CONSISTENCY') ?? (rf > 1 ? 'LOCAL_QUORUM' : 'ONE');
  if (!CASSANDRA_CONSISTENCIES.includes(consistency as CassandraConsistency)) {
    throw new ConfigError(`TRACKFLOW_CASSANDRA_CONSISTENCY must be one of ${CASSANDRA_CONSISTENCIES.join(', ')}, got "${consistency.slice(0, 20)}"`);
  }
  const level = consistency as CassandraConsistency;
  const needed = replicasFor(level, rf);
  if (needed > rf) throw new ConfigError(`TRACKFLOW_CASSANDRA_CONSISTENCY=${level} needs ${needed} replicas; TRACKFLOW_CASSANDRA_REPLICATION_FACTOR is ${rf}`);
  if (rf > 1 && needed < Math.floor(rf / 2) + 1) {
    throw new ConfigError(`TRACKFLOW_CASSANDRA_CONSISTENCY=${level} is below a quorum at replication factor ${rf}: one lost node could take acknowledged writes with it (use LOCAL_QUORUM)`);
  }
  const serial = optional(env, 'TRACKFLOW_CASSANDRA_SERIAL_CONSISTENCY') ?? (rf > 1 ? 'LOCAL_SERIAL' : 'SERIAL');
  if (serial !== 'SERIAL' && serial !== 'LOCAL_SERIAL') throw new ConfigError(`TRACKFLOW_CASSANDRA_SERIAL_CONSISTENCY must be SERIAL or LOCAL_SERIAL, got "${serial.slice(0, 20)}"`);
  const kafkaRf = optional(env, 'TRACKFLOW_KAFKA_REPLICATION_FACTOR') ? int(env, 'TRACKFLOW_KAFKA_REPLICATION_FACTOR', 1, 1, 16) : undefined;
  const minIsr = optional(env, 'TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS') ? int(env, 'TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS', 1, 1, 16) : undefined;
  if (minIsr !== undefined && minIsr > (kafkaRf ?? minIsr)) throw new ConfigError(`TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS=${minIsr} exceeds TRACKFLOW_KAFKA_REPLICATION_FACTOR=${kafkaRf}`);
  if (minIsr !== undefined && kafkaRf !== undefined && kafkaRf > 1 && minIsr === kafkaRf) {
    throw new ConfigError(`TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS=${minIsr} equals the replication factor: one broker down would stop every write (use ${kafkaRf - 1})`);
  }
  return { consistency: level, serialConsistency: serial as CassandraSerialConsistency, kafkaRf, minIsr };
}
// ---- end of replication and consistency ----

/** Reads and validates the whole configuration from an environment. Pure: no global state. */
export function loadConfig(env: Env = process.env): Config {
  refusePlaceholderSecrets(env);
  const production = (optional(env, 'TRACKFLOW_ENV') ?? '').toLowerCase() === 'production';
  const users = kafkaUsers(env);
  const landingDir = path.resolve(REPO_ROOT, str(env, 'TRACKFLOW_LANDING_DIR', 'landing'));
  const xdgCache = optional(env, 'XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache');
  const xdgState = optional(env, 'XDG_STATE_HOME') ?? path.join(os.homedir(), '.local', 'state');
  const topic = assertIdentifier('TRACKFLOW_KAFKA_TOPIC', str(env, 'TRACKFLOW_KAFKA_TOPIC', 'trackflow.events'), KAFKA_NAME);
  const replicationFactor = int(env, 'TRACKFLOW_CASSANDRA_REPLICATION_FACTOR', 1, 1, 7);
  const replication = replicationSettings(env, replicationFactor);
  return {
    ingest: ingestLimits(env),
    scale: scaleLimits(env),
    cassandra: {
      contactPoints: list(env, 'TRACKFLOW_CASSANDRA_CONTACT_POINTS', '127.0.0.1:9042'),
      localDataCenter: str(env, 'TRACKFLOW_CASSANDRA_LOCAL_DC', 'datacenter1'),
      keyspace: assertIdentifier('TRACKFLOW_CASSANDRA_KEYSPACE', str(env, 'TRACKFLOW_CASSANDRA_KEYSPACE', 'trackflow')),
      replicationFactor,
      username: optional(env, 'TRACKFLOW_CASSANDRA_USERNAME'),
      password: optional(env, 'TRACKFLOW_CASSANDRA_PASSWORD'),
      admin: credential(env, 'TRACKFLOW_CASSANDRA_ADMIN', 'trackflow_migrate'),
      tls: tls(env, 'TRACKFLOW_CASSANDRA', production),
      consistency: replication.consistency,
      serialConsistency: replication.serialConsistency,
    },
    kafka: {
      brokers: list(env, 'TRACKFLOW_KAFKA_BROKERS', '127.0.0.1:9092'),
      clientId: str(env, 'TRACKFLOW_KAFKA_CLIENT_ID', 'trackflow'),
      topic,
      deadLetterTopic: assertIdentifier('TRACKFLOW_KAFKA_DLQ_TOPIC', str(env, 'TRACKFLOW_KAFKA_DLQ_TOPIC', `${topic}.dlq`), KAFKA_NAME),
      partitions: int(env, 'TRACKFLOW_KAFKA_PARTITIONS', 6, 1, 1000),
      consumerGroup: assertIdentifier('TRACKFLOW_KAFKA_GROUP', str(env, 'TRACKFLOW_KAFKA_GROUP', 'trackflow-warehouse'), KAFKA_NAME),
      sasl: kafkaSasl(env, users),
      users,
      tls: tls(env, 'TRACKFLOW_KAFKA', production),
      replicationFactor: replication.kafkaRf,
      minInsyncReplicas: replication.minIsr,
    },
    mysql: {
      host: str(env, 'TRACKFLOW_MYSQL_HOST', '127.0.0.1'),
      port: int(env, 'TRACKFLOW_MYSQL_PORT', 3306, 1, 65535),
      database: assertIdentifier('TRACKFLOW_MYSQL_DATABASE', str(env, 'TRACKFLOW_MYSQL_DATABASE', 'trackflow')),
      user: str(env, 'TRACKFLOW_MYSQL_USER', 'trackflow_app'),
      password: str(env, 'TRACKFLOW_MYSQL_PASSWORD'),
      adminUser: str(env, 'TRACKFLOW_MYSQL_ADMIN_USER', 'trackflow_admin'),
      adminPassword: optional(env, 'TRACKFLOW_MYSQL_ADMIN_PASSWORD'),
      tls: tls(env, 'TRACKFLOW_MYSQL', production),
    },
    temporal: {
      address: str(env, 'TRACKFLOW_TEMPORAL_ADDRESS', '127.0.0.1:7233'),
      namespace: str(env, 'TRACKFLOW_TEMPORAL_NAMESPACE', 'default'),
      uiPort: int(env, 'TRACKFLOW_TEMPORAL_UI_PORT', 8233, 1, 65535),
      taskQueues: {
        pipeline: str(env, 'TRACKFLOW_TASK_QUEUE_PIPELINE', TASK_QUEUES.pipeline),
        stream: str(env, 'TRACKFLOW_TASK_QUEUE_STREAM', TASK_QUEUES.stream),
      },
      tls: tls(env, 'TRACKFLOW_TEMPORAL', production),
    },
    landingDir,
    inputDirs: inputDirs(env, landingDir),
    production,
    stateDir: path.resolve(str(env, 'TRACKFLOW_STATE_DIR', path.join(xdgState, 'trackflow'))),
    cacheDir: path.resolve(str(env, 'TRACKFLOW_CACHE_DIR', path.join(xdgCache, 'trackflow'))),
    metrics: {
      pipelinePort: int(env, 'TRACKFLOW_PIPELINE_METRICS_PORT', 9464, 0, 65535),
      streamPort: int(env, 'TRACKFLOW_STREAM_METRICS_PORT', 9465, 0, 65535),
    },
  };
}

/** Loads `.env` from the repository root into process.env (variables already set win); `skip` keys are not read. */
export function loadDotEnv(file = path.join(REPO_ROOT, '.env'), skip: readonly string[] = []): void {
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const [, key, rawValue] = match as unknown as [string, string, string];
    if (skip.includes(key)) continue;
    const value = rawValue.replace(/^(['"])(.*)\1$/, '$2');
    if (process.env[key] === undefined) process.env[key] = value;
  }
}

/**
 * A worker process's configuration: like config(), but the admin secrets are neither read from `.env` nor kept
 * in the environment, so a compromised activity cannot reach them through this process.
 */
export function workerConfig(): Config {
  for (const key of ADMIN_SECRET_KEYS) delete process.env[key];
  loadDotEnv(undefined, ADMIN_SECRET_KEYS);
  cached ??= loadConfig(process.env);
  return cached;
}

let cached: Config | undefined;

/** The process-wide configuration: `.env` plus the environment, read and validated once. */
export function config(): Config {
  if (!cached) {
    loadDotEnv();
    cached = loadConfig(process.env);
  }
  return cached;
}
