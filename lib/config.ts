import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { z } from 'zod';
import { CASSANDRA_CONSISTENCIES, KAFKA_ROLES, NOT_SET, envSchema, stackSchema, systemSchema, cliSchema, type CassandraConsistency, type CassandraSerialConsistency, type Env, type KafkaCompression, type StackEnv, type TlsPrefix } from './envSchema';

export { CASSANDRA_CONSISTENCIES, type CassandraConsistency, type CassandraSerialConsistency };
import { TASK_QUEUES } from './taskQueues';
import { ConfigError } from './domain/errors';
import type { MessageVersion } from './domain/message';

/** The nearest directory above `from` that holds package.json: the same from lib/ and from dist/lib/. */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

/** Where the repository lives; every relative default is resolved against it, not the caller's cwd. */
export const REPO_ROOT = packageRoot(__dirname);

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

export type KafkaRole = (typeof KAFKA_ROLES)[number];

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  topic: string;
  deadLetterTopic: string;
  partitions: number;
  consumerGroup: string;
  /** Record-batch compression of what trackflow produces (events and DLQ); consumers read every codec. */
  compression: KafkaCompression;
  /** The message contract version the publisher writes; consumers read every version. */
  messageVersion: MessageVersion;
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
  metrics: {
    pipelinePort: number;
    streamPort: number;
    /** Where /metrics listens: 127.0.0.1 unless TRACKFLOW_METRICS_HOST says otherwise (0.0.0.0 in a container). */
    host: string;
    /** TRACKFLOW_SDK_METRICS_PORT as given (sdkMetricsPort applies the default). */
    sdkPort?: number;
  };
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
}

export { ConfigError };

type RawEnv = Record<string, string | undefined>;

/** One line per problem, each naming its variable; a secret's value is never echoed. */
function parse<S extends z.ZodType>(schema: S, env: RawEnv): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const raw = env[key];
    const shown = raw === undefined || raw.trim() === '' || /PASSWORD|SECRET/.test(key) ? '' : `, got "${raw.slice(0, 80)}"`;
    return `${key} ${issue.message}${shown}`;
  });
  throw new ConfigError(lines.join('; '));
}

/** The stream's consumer count when none is asked for: one per partition, at most scale.maxConsumers. */
export function defaultConsumers(cfg: Pick<Config, 'kafka' | 'scale'>): number {
  return Math.max(1, Math.min(cfg.kafka.partitions, cfg.scale.maxConsumers));
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function tls(env: Env, prefix: TlsPrefix, production: boolean): TlsConfig {
  const rejectUnauthorized = env[`${prefix}_TLS_REJECT_UNAUTHORIZED`];
  if (!rejectUnauthorized && production) {
    throw new ConfigError(`${prefix}_TLS_REJECT_UNAUTHORIZED=false is refused with TRACKFLOW_ENV=production`);
  }
  return {
    enabled: env[`${prefix}_TLS`],
    caFile: env[`${prefix}_TLS_CA_FILE`],
    certFile: env[`${prefix}_TLS_CERT_FILE`],
    keyFile: env[`${prefix}_TLS_KEY_FILE`],
    rejectUnauthorized,
    servername: env[`${prefix}_TLS_SERVERNAME`],
  };
}

/** Refuses any TRACKFLOW_*PASSWORD that is still the committed example's placeholder. */
function refusePlaceholderSecrets(env: RawEnv): void {
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('TRACKFLOW_') || !key.endsWith('PASSWORD') || !value) continue;
    if (PLACEHOLDER_SECRET.test(value)) {
      throw new ConfigError(
        `${key} is the example placeholder "${value.slice(0, 20)}"; remove the line from .env and run \`npm run stack -- up\` to generate a random one`,
      );
    }
  }
}

const credential = (username: string | undefined, password: string | undefined, defaultUser: string): Credential | undefined =>
  password ? { username: username ?? defaultUser, password } : undefined;

function kafkaUsers(env: Env): Partial<Record<KafkaRole, Credential>> {
  const users: Partial<Record<KafkaRole, Credential>> = {};
  const defaults: Record<KafkaRole, string> = {
    admin: 'trackflow_kafka_admin',
    publisher: 'trackflow_publisher',
    stream: 'trackflow_stream',
    bench: 'trackflow_bench',
  };
  for (const role of KAFKA_ROLES) {
    const upper = role.toUpperCase() as Uppercase<KafkaRole>;
    const c = credential(env[`TRACKFLOW_KAFKA_${upper}_USERNAME`], env[`TRACKFLOW_KAFKA_${upper}_PASSWORD`], defaults[role]);
    if (c) users[role] = c;
  }
  return users;
}

function kafkaSasl(env: Env, users: Partial<Record<KafkaRole, Credential>>): KafkaConfig['sasl'] {
  const mechanism = env.TRACKFLOW_KAFKA_SASL_MECHANISM;
  if (!mechanism) return undefined;
  const explicit = env.TRACKFLOW_KAFKA_SASL_USERNAME;
  if (!explicit && users.admin) return { mechanism, ...users.admin };
  if (!explicit) return undefined;
  if (!env.TRACKFLOW_KAFKA_SASL_PASSWORD) throw new ConfigError(`TRACKFLOW_KAFKA_SASL_PASSWORD ${NOT_SET}`);
  return { mechanism, username: explicit, password: env.TRACKFLOW_KAFKA_SASL_PASSWORD };
}

/** The Kafka settings of one component: its own SASL user when one is configured. */
export function kafkaFor(cfg: KafkaConfig, role: KafkaRole): KafkaConfig {
  const user = cfg.users[role];
  const mechanism = cfg.sasl?.mechanism ?? 'scram-sha-512';
  return user ? { ...cfg, sasl: { mechanism, ...user } } : cfg;
}

function inputDirs(env: Env, landingDir: string): string[] {
  const extra = (env.TRACKFLOW_INPUT_DIRS ?? '').split(path.delimiter).filter(Boolean);
  const jobsDir = env.TRACKFLOW_JOBS_DIR;
  return [landingDir, ...(jobsDir ? [jobsDir] : []), ...extra].map((d) => path.resolve(REPO_ROOT, d));
}

function ingestLimits(env: Env): IngestLimitsConfig {
  return {
    maxRecordBytes: env.TRACKFLOW_INGEST_MAX_RECORD_BYTES,
    maxRecordFields: env.TRACKFLOW_INGEST_MAX_RECORD_FIELDS,
    maxDecompressedBytes: env.TRACKFLOW_INGEST_MAX_DECOMPRESSED_BYTES,
    maxRejects: env.TRACKFLOW_INGEST_MAX_REJECTS,
    maxRejectRatio: env.TRACKFLOW_INGEST_MAX_REJECT_RATIO,
    rejectRatioMinRecords: env.TRACKFLOW_INGEST_REJECT_RATIO_MIN_RECORDS,
    heartbeatMs: env.TRACKFLOW_INGEST_HEARTBEAT_MS,
  };
}

function scaleLimits(env: Env): ScaleConfig {
  return {
    maxConsumers: env.TRACKFLOW_STREAM_MAX_CONSUMERS,
    maxConcurrentFiles: env.TRACKFLOW_INGEST_MAX_CONCURRENT_FILES,
    maxConcurrentPublishes: env.TRACKFLOW_PUBLISH_MAX_CONCURRENT,
    streamWorkerActivities: env.TRACKFLOW_STREAM_WORKER_ACTIVITIES,
    pipelineWorkerActivities: env.TRACKFLOW_PIPELINE_WORKER_ACTIVITIES,
  };
}

/** Replicas a level waits for at replication factor `rf`. */
export function replicasFor(level: CassandraConsistency, rf: number): number {
  const quorum = Math.floor(rf / 2) + 1;
  const n: Record<CassandraConsistency, number> = { ONE: 1, LOCAL_ONE: 1, TWO: 2, THREE: 3, QUORUM: quorum, LOCAL_QUORUM: quorum, EACH_QUORUM: quorum, ALL: rf };
  return n[level];
}

/**
 * The lake's consistency levels (default ONE at replication factor 1, LOCAL_QUORUM above it), validated against
 * the replication factor: a level needing more replicas than exist never succeeds, and a level below a quorum
 * on a replicated lake loses acknowledged writes with one node.
 */
function cassandraConsistency(env: Env, rf: number): Pick<CassandraConfig, 'consistency' | 'serialConsistency'> {
  const level = env.TRACKFLOW_CASSANDRA_CONSISTENCY ?? (rf > 1 ? 'LOCAL_QUORUM' : 'ONE');
  const needed = replicasFor(level, rf);
  if (needed > rf) throw new ConfigError(`TRACKFLOW_CASSANDRA_CONSISTENCY=${level} needs ${needed} replicas; TRACKFLOW_CASSANDRA_REPLICATION_FACTOR is ${rf}`);
  if (rf > 1 && needed < Math.floor(rf / 2) + 1) {
    throw new ConfigError(`TRACKFLOW_CASSANDRA_CONSISTENCY=${level} is below a quorum at replication factor ${rf}: one lost node could take acknowledged writes with it (use LOCAL_QUORUM)`);
  }
  return { consistency: level, serialConsistency: env.TRACKFLOW_CASSANDRA_SERIAL_CONSISTENCY ?? (rf > 1 ? 'LOCAL_SERIAL' : 'SERIAL') };
}

/**
 * Kafka topic replication: min.insync.replicas above the replication factor never accepts an `acks=all` write,
 * and equal to it (above 1) stops every write with one broker down.
 */
function kafkaReplication(env: Env): Pick<KafkaConfig, 'replicationFactor' | 'minInsyncReplicas'> {
  const rf = env.TRACKFLOW_KAFKA_REPLICATION_FACTOR;
  const minIsr = env.TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS;
  if (minIsr !== undefined && minIsr > (rf ?? minIsr)) throw new ConfigError(`TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS=${minIsr} exceeds TRACKFLOW_KAFKA_REPLICATION_FACTOR=${rf}`);
  if (minIsr !== undefined && rf !== undefined && rf > 1 && minIsr === rf) {
    throw new ConfigError(`TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS=${minIsr} equals the replication factor: one broker down would stop every write (use ${rf - 1})`);
  }
  return { replicationFactor: rf, minInsyncReplicas: minIsr };
}

function cassandra(env: Env, production: boolean): CassandraConfig {
  return {
    contactPoints: list(env.TRACKFLOW_CASSANDRA_CONTACT_POINTS),
    localDataCenter: env.TRACKFLOW_CASSANDRA_LOCAL_DC,
    keyspace: assertIdentifier('TRACKFLOW_CASSANDRA_KEYSPACE', env.TRACKFLOW_CASSANDRA_KEYSPACE),
    replicationFactor: env.TRACKFLOW_CASSANDRA_REPLICATION_FACTOR,
    username: env.TRACKFLOW_CASSANDRA_USERNAME,
    password: env.TRACKFLOW_CASSANDRA_PASSWORD,
    admin: credential(env.TRACKFLOW_CASSANDRA_ADMIN_USERNAME, env.TRACKFLOW_CASSANDRA_ADMIN_PASSWORD, 'trackflow_migrate'),
    tls: tls(env, 'TRACKFLOW_CASSANDRA', production),
    ...cassandraConsistency(env, env.TRACKFLOW_CASSANDRA_REPLICATION_FACTOR),
  };
}

function kafka(env: Env, production: boolean): KafkaConfig {
  const users = kafkaUsers(env);
  const topic = assertIdentifier('TRACKFLOW_KAFKA_TOPIC', env.TRACKFLOW_KAFKA_TOPIC, KAFKA_NAME);
  return {
    brokers: list(env.TRACKFLOW_KAFKA_BROKERS),
    clientId: env.TRACKFLOW_KAFKA_CLIENT_ID,
    topic,
    deadLetterTopic: assertIdentifier('TRACKFLOW_KAFKA_DLQ_TOPIC', env.TRACKFLOW_KAFKA_DLQ_TOPIC ?? `${topic}.dlq`, KAFKA_NAME),
    partitions: env.TRACKFLOW_KAFKA_PARTITIONS,
    consumerGroup: assertIdentifier('TRACKFLOW_KAFKA_GROUP', env.TRACKFLOW_KAFKA_GROUP, KAFKA_NAME),
    compression: env.TRACKFLOW_KAFKA_COMPRESSION,
    messageVersion: env.TRACKFLOW_KAFKA_MESSAGE_VERSION as MessageVersion, // 1..2, checked by the schema
    sasl: kafkaSasl(env, users),
    users,
    tls: tls(env, 'TRACKFLOW_KAFKA', production),
    ...kafkaReplication(env),
  };
}

function mysql(env: Env, production: boolean): MysqlConfig {
  return {
    host: env.TRACKFLOW_MYSQL_HOST,
    port: env.TRACKFLOW_MYSQL_PORT,
    database: assertIdentifier('TRACKFLOW_MYSQL_DATABASE', env.TRACKFLOW_MYSQL_DATABASE),
    user: env.TRACKFLOW_MYSQL_USER,
    password: env.TRACKFLOW_MYSQL_PASSWORD,
    adminUser: env.TRACKFLOW_MYSQL_ADMIN_USER,
    adminPassword: env.TRACKFLOW_MYSQL_ADMIN_PASSWORD,
    tls: tls(env, 'TRACKFLOW_MYSQL', production),
  };
}

function temporal(env: Env, production: boolean): TemporalConfig {
  return {
    address: env.TRACKFLOW_TEMPORAL_ADDRESS,
    namespace: env.TRACKFLOW_TEMPORAL_NAMESPACE,
    uiPort: env.TRACKFLOW_TEMPORAL_UI_PORT,
    taskQueues: {
      pipeline: env.TRACKFLOW_TASK_QUEUE_PIPELINE ?? TASK_QUEUES.pipeline,
      stream: env.TRACKFLOW_TASK_QUEUE_STREAM ?? TASK_QUEUES.stream,
    },
    tls: tls(env, 'TRACKFLOW_TEMPORAL', production),
  };
}

/**
 * The Temporal SDK's own metrics (task slots, poll latency, task outcomes) come from its native exporter,
 * which listens on a loopback port of its own; the worker's /metrics appends its text, so one scrape gets
 * both. Default: the worker's metrics port + 100; 0 turns it off.
 */
export function sdkMetricsPort(metricsPort: number, env: RawEnv = process.env): number | undefined {
  const explicit = parse(envSchema.pick({ TRACKFLOW_SDK_METRICS_PORT: true }), env).TRACKFLOW_SDK_METRICS_PORT;
  const port = explicit ?? (metricsPort ? metricsPort + 100 : 0);
  return port > 0 && port < 65536 ? port : undefined;
}

/** TRACKFLOW_LOG_LEVEL (default info), for loggers built before the whole configuration is. */
export function logLevel(env: RawEnv = process.env): Config['log']['level'] {
  return parse(envSchema.pick({ TRACKFLOW_LOG_LEVEL: true }), env).TRACKFLOW_LOG_LEVEL;
}

/** Where /metrics listens: 127.0.0.1 unless TRACKFLOW_METRICS_HOST says otherwise (0.0.0.0 in a container). */
export function metricsListenHost(env: RawEnv = process.env): string {
  return parse(envSchema.pick({ TRACKFLOW_METRICS_HOST: true }), env).TRACKFLOW_METRICS_HOST;
}

/** Reads and validates the whole configuration from an environment. Pure: no global state. */
export function loadConfig(raw: RawEnv = process.env): Config {
  refusePlaceholderSecrets(raw);
  const env = parse(envSchema, raw);
  const sys = parse(systemSchema, raw);
  const production = (env.TRACKFLOW_ENV ?? '').toLowerCase() === 'production';
  const landingDir = path.resolve(REPO_ROOT, env.TRACKFLOW_LANDING_DIR);
  const xdgCache = sys.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  const xdgState = sys.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return {
    ingest: ingestLimits(env),
    scale: scaleLimits(env),
    cassandra: cassandra(env, production),
    kafka: kafka(env, production),
    mysql: mysql(env, production),
    temporal: temporal(env, production),
    landingDir,
    inputDirs: inputDirs(env, landingDir),
    production,
    stateDir: path.resolve(env.TRACKFLOW_STATE_DIR ?? path.join(xdgState, 'trackflow')),
    cacheDir: path.resolve(env.TRACKFLOW_CACHE_DIR ?? path.join(xdgCache, 'trackflow')),
    metrics: {
      pipelinePort: env.TRACKFLOW_PIPELINE_METRICS_PORT,
      streamPort: env.TRACKFLOW_STREAM_METRICS_PORT,
      host: env.TRACKFLOW_METRICS_HOST,
      sdkPort: env.TRACKFLOW_SDK_METRICS_PORT,
    },
    log: { level: env.TRACKFLOW_LOG_LEVEL },
  };
}

/**
 * Loads `.env` from the repository root into process.env (variables already set win); `skip` keys are not
 * read. Node's own parser (util.parseEnv) reads the file: quotes, comments and `export` prefixes included.
 */
export function loadDotEnv(file = path.join(REPO_ROOT, '.env'), skip: readonly string[] = []): void {
  if (!fs.existsSync(file)) return;
  for (const [key, value] of Object.entries(parseEnv(fs.readFileSync(file, 'utf8')))) {
    if (skip.includes(key) || value === undefined) continue;
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

/** The local stack's own settings (`npm run stack`), from `.env` and the environment. */
export function stackEnv(raw?: RawEnv): StackEnv {
  if (raw) return parse(stackSchema, raw);
  loadDotEnv();
  return parse(stackSchema, process.env);
}

/** Whether the CLI runs with --verbose (setVerbose), inherited by the processes it starts. */
export function verbose(): boolean {
  return parse(cliSchema, process.env).TRACKFLOW_VERBOSE;
}

/** Where scripts/build-confluent-client.sh put the Confluent Kafka client, if anywhere (the benchmark's). */
export function confluentDir(): string | undefined {
  return parse(cliSchema, process.env).TRACKFLOW_CONFLUENT_DIR;
}

export function setVerbose(): void {
  setEnv('TRACKFLOW_VERBOSE', '1');
}

/** JAVA_HOME, for the stack's Java servers. */
export function javaHome(): string | undefined {
  return parse(systemSchema, process.env).JAVA_HOME;
}

/**
 * Sets (or, with undefined, removes) one variable for this process and the processes it starts, and drops
 * the cached configuration so the next config() sees it.
 */
export function setEnv(key: string, value: string | undefined): void {
  if (value === undefined) delete process.env[key];
  else process.env[key] = value;
  cached = undefined;
}

/** The environment for a child process: this one's, with `extra` on top (undefined removes a key). */
export function childEnv(extra: RawEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}
