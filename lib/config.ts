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
}

export interface CassandraConfig {
  contactPoints: string[];
  localDataCenter: string;
  keyspace: string;
  replicationFactor: number;
  username?: string;
  password?: string;
  tls: TlsConfig;
}

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  topic: string;
  deadLetterTopic: string;
  partitions: number;
  consumerGroup: string;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  tls: TlsConfig;
}

export interface MysqlConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  adminUser: string;
  adminPassword: string;
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

function tls(env: Env, prefix: string): TlsConfig {
  return {
    enabled: bool(env, `${prefix}_TLS`, false),
    caFile: optional(env, `${prefix}_TLS_CA_FILE`),
    certFile: optional(env, `${prefix}_TLS_CERT_FILE`),
    keyFile: optional(env, `${prefix}_TLS_KEY_FILE`),
    rejectUnauthorized: bool(env, `${prefix}_TLS_REJECT_UNAUTHORIZED`, true),
  };
}

/** Reads and validates the whole configuration from an environment. Pure: no global state. */
export function loadConfig(env: Env = process.env): Config {
  const saslMechanism = optional(env, 'TRACKFLOW_KAFKA_SASL_MECHANISM');
  if (saslMechanism && !['plain', 'scram-sha-256', 'scram-sha-512'].includes(saslMechanism)) {
    throw new ConfigError(`TRACKFLOW_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512`);
  }
  const xdgCache = optional(env, 'XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache');
  const xdgState = optional(env, 'XDG_STATE_HOME') ?? path.join(os.homedir(), '.local', 'state');
  const topic = str(env, 'TRACKFLOW_KAFKA_TOPIC', 'trackflow.events');
  return {
    ingest: ingestLimits(env),
    scale: scaleLimits(env),
    cassandra: {
      contactPoints: list(env, 'TRACKFLOW_CASSANDRA_CONTACT_POINTS', '127.0.0.1:9042'),
      localDataCenter: str(env, 'TRACKFLOW_CASSANDRA_LOCAL_DC', 'datacenter1'),
      keyspace: str(env, 'TRACKFLOW_CASSANDRA_KEYSPACE', 'trackflow'),
      replicationFactor: int(env, 'TRACKFLOW_CASSANDRA_REPLICATION_FACTOR', 1, 1, 7),
      username: optional(env, 'TRACKFLOW_CASSANDRA_USERNAME'),
      password: optional(env, 'TRACKFLOW_CASSANDRA_PASSWORD'),
      tls: tls(env, 'TRACKFLOW_CASSANDRA'),
    },
    kafka: {
      brokers: list(env, 'TRACKFLOW_KAFKA_BROKERS', '127.0.0.1:9092'),
      clientId: str(env, 'TRACKFLOW_KAFKA_CLIENT_ID', 'trackflow'),
      topic,
      deadLetterTopic: str(env, 'TRACKFLOW_KAFKA_DLQ_TOPIC', `${topic}.dlq`),
      partitions: int(env, 'TRACKFLOW_KAFKA_PARTITIONS', 6, 1, 1000),
      consumerGroup: str(env, 'TRACKFLOW_KAFKA_GROUP', 'trackflow-warehouse'),
      sasl: saslMechanism
        ? {
            mechanism: saslMechanism as 'plain' | 'scram-sha-256' | 'scram-sha-512',
            username: str(env, 'TRACKFLOW_KAFKA_SASL_USERNAME'),
            password: str(env, 'TRACKFLOW_KAFKA_SASL_PASSWORD'),
          }
        : undefined,
      tls: tls(env, 'TRACKFLOW_KAFKA'),
    },
    mysql: {
      host: str(env, 'TRACKFLOW_MYSQL_HOST', '127.0.0.1'),
      port: int(env, 'TRACKFLOW_MYSQL_PORT', 3306, 1, 65535),
      database: str(env, 'TRACKFLOW_MYSQL_DATABASE', 'trackflow'),
      user: str(env, 'TRACKFLOW_MYSQL_USER', 'trackflow_app'),
      password: str(env, 'TRACKFLOW_MYSQL_PASSWORD'),
      adminUser: str(env, 'TRACKFLOW_MYSQL_ADMIN_USER', 'trackflow_admin'),
      adminPassword: str(env, 'TRACKFLOW_MYSQL_ADMIN_PASSWORD'),
      tls: tls(env, 'TRACKFLOW_MYSQL'),
    },
    temporal: {
      address: str(env, 'TRACKFLOW_TEMPORAL_ADDRESS', '127.0.0.1:7233'),
      namespace: str(env, 'TRACKFLOW_TEMPORAL_NAMESPACE', 'default'),
      uiPort: int(env, 'TRACKFLOW_TEMPORAL_UI_PORT', 8233, 1, 65535),
      taskQueues: {
        pipeline: str(env, 'TRACKFLOW_TASK_QUEUE_PIPELINE', TASK_QUEUES.pipeline),
        stream: str(env, 'TRACKFLOW_TASK_QUEUE_STREAM', TASK_QUEUES.stream),
      },
      tls: tls(env, 'TRACKFLOW_TEMPORAL'),
    },
    landingDir: path.resolve(REPO_ROOT, str(env, 'TRACKFLOW_LANDING_DIR', 'landing')),
    stateDir: path.resolve(str(env, 'TRACKFLOW_STATE_DIR', path.join(xdgState, 'trackflow'))),
    cacheDir: path.resolve(str(env, 'TRACKFLOW_CACHE_DIR', path.join(xdgCache, 'trackflow'))),
    metrics: {
      pipelinePort: int(env, 'TRACKFLOW_PIPELINE_METRICS_PORT', 9464, 0, 65535),
      streamPort: int(env, 'TRACKFLOW_STREAM_METRICS_PORT', 9465, 0, 65535),
    },
  };
}

/** Loads `.env` from the repository root into process.env (variables already set win). */
export function loadDotEnv(file = path.join(REPO_ROOT, '.env')): void {
  if (!fs.existsSync(file)) return;
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith('#')) continue;
    const [, key, rawValue] = match as unknown as [string, string, string];
    const value = rawValue.replace(/^(['"])(.*)\1$/, '$2');
    if (process.env[key] === undefined) process.env[key] = value;
  }
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
