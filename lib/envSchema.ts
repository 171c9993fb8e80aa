import { z } from 'zod';

/**
 * Every environment variable trackflow reads, with its type, range and default: the one place they are
 * validated (zod). lib/config.ts parses the environment with it once and shapes the result into Config;
 * .env.example documents exactly these keys (test/unit/env-schema.test.ts).
 */

/** An empty or blank value means "not set", as in a `.env` line `KEY=`. */
const blank = (v: unknown) => (typeof v === 'string' ? v.trim() || undefined : v);

export const NOT_SET = 'is not set (copy .env.example to .env, or export it)';

const text = () => z.preprocess(blank, z.string().optional());
const textOr = (fallback: string) => z.preprocess(blank, z.string().default(fallback));
const required = () => z.preprocess(blank, z.string({ error: NOT_SET }));

function int(fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.preprocess(blank, z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }).default(fallback));
}

function optionalInt(min = 0, max = Number.MAX_SAFE_INTEGER) {
  const error = `must be an integer between ${min} and ${max}`;
  return z.preprocess(blank, z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error }).optional());
}

function ratio(fallback: number) {
  const error = 'must be a number between 0 and 1';
  return z.preprocess(blank, z.coerce.number({ error }).min(0, { error }).max(1, { error }).default(fallback));
}

const bool = (fallback: boolean) => z.preprocess(blank, z.stringbool({ error: 'must be true or false' }).default(fallback));

const port = (fallback: number) => int(fallback, 0, 65535);

/** The TLS settings every client has, under its prefix (TRACKFLOW_MYSQL_TLS, TRACKFLOW_MYSQL_TLS_CA_FILE, ...). */
export const TLS_PREFIXES = ['TRACKFLOW_CASSANDRA', 'TRACKFLOW_KAFKA', 'TRACKFLOW_MYSQL', 'TRACKFLOW_TEMPORAL'] as const;
export type TlsPrefix = (typeof TLS_PREFIXES)[number];

type Bool = ReturnType<typeof bool>;
type Text = ReturnType<typeof text>;
type TlsShape<P extends string> = { [K in `${P}_TLS` | `${P}_TLS_REJECT_UNAUTHORIZED`]: Bool } & {
  [K in `${P}_TLS_CA_FILE` | `${P}_TLS_CERT_FILE` | `${P}_TLS_KEY_FILE` | `${P}_TLS_SERVERNAME`]: Text;
};

function tlsKeys<P extends TlsPrefix>(prefix: P): TlsShape<P> {
  return {
    [`${prefix}_TLS`]: bool(false),
    [`${prefix}_TLS_CA_FILE`]: text(),
    [`${prefix}_TLS_CERT_FILE`]: text(),
    [`${prefix}_TLS_KEY_FILE`]: text(),
    [`${prefix}_TLS_REJECT_UNAUTHORIZED`]: bool(true),
    [`${prefix}_TLS_SERVERNAME`]: text(),
  } as TlsShape<P>;
}

/** The record-batch compressions trackflow produces with (TRACKFLOW_KAFKA_COMPRESSION); lib/clients/kafkaCodecs.ts. */
export const KAFKA_COMPRESSIONS = ['zstd', 'gzip', 'none'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/**
 * zstd: about a third of gzip's CPU to compress and to decompress this topic's JSON batches, for the same
 * bytes within 3% (docs/publish.md, "Compression"). Brokers and Java clients read it since Kafka 2.1.
 */
export const DEFAULT_KAFKA_COMPRESSION: KafkaCompression = 'zstd';
/** Cassandra consistency levels trackflow accepts for its reads and writes, and for the Paxos phase of its claims. */
export const CASSANDRA_CONSISTENCIES = ['ONE', 'TWO', 'THREE', 'QUORUM', 'LOCAL_QUORUM', 'EACH_QUORUM', 'LOCAL_ONE', 'ALL'] as const;
export type CassandraConsistency = (typeof CASSANDRA_CONSISTENCIES)[number];
export const CASSANDRA_SERIAL_CONSISTENCIES = ['SERIAL', 'LOCAL_SERIAL'] as const;
export type CassandraSerialConsistency = (typeof CASSANDRA_SERIAL_CONSISTENCIES)[number];

function oneOf<T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(blank, z.enum(values, { error: `must be one of ${values.join(', ')}` }).optional());
}

export const KAFKA_ROLES = ['admin', 'publisher', 'stream', 'bench'] as const;

export type KafkaRoleName = (typeof KAFKA_ROLES)[number];
type KafkaUserShape = { [K in `TRACKFLOW_KAFKA_${Uppercase<KafkaRoleName>}_${'USERNAME' | 'PASSWORD'}`]: Text };

function kafkaUserKeys(): KafkaUserShape {
  const keys: Record<string, Text> = {};
  for (const role of KAFKA_ROLES) {
    keys[`TRACKFLOW_KAFKA_${role.toUpperCase()}_USERNAME`] = text();
    keys[`TRACKFLOW_KAFKA_${role.toUpperCase()}_PASSWORD`] = text();
  }
  return keys as KafkaUserShape;
}

const core = z.object({
  TRACKFLOW_ENV: text(),
  TRACKFLOW_LOG_LEVEL: z.preprocess(
    (v) => (typeof blank(v) === 'string' ? (blank(v) as string).toLowerCase() : undefined),
    z.enum(['trace', 'debug', 'info', 'warn', 'error'], { error: 'must be trace, debug, info, warn or error' }).default('info'),
  ),
  TRACKFLOW_LANDING_DIR: textOr('landing'),
  TRACKFLOW_JOBS_DIR: text(),
  TRACKFLOW_INPUT_DIRS: text(),
  TRACKFLOW_STATE_DIR: text(),
  TRACKFLOW_CACHE_DIR: text(),

  TRACKFLOW_CASSANDRA_CONTACT_POINTS: textOr('127.0.0.1:9042'),
  TRACKFLOW_CASSANDRA_LOCAL_DC: textOr('datacenter1'),
  TRACKFLOW_CASSANDRA_KEYSPACE: textOr('trackflow'),
  TRACKFLOW_CASSANDRA_REPLICATION_FACTOR: int(1, 1, 7),
  TRACKFLOW_CASSANDRA_USERNAME: text(),
  TRACKFLOW_CASSANDRA_PASSWORD: text(),
  TRACKFLOW_CASSANDRA_ADMIN_USERNAME: text(),
  TRACKFLOW_CASSANDRA_ADMIN_PASSWORD: text(),
  TRACKFLOW_CASSANDRA_CONSISTENCY: oneOf(CASSANDRA_CONSISTENCIES),
  TRACKFLOW_CASSANDRA_SERIAL_CONSISTENCY: oneOf(CASSANDRA_SERIAL_CONSISTENCIES),

  TRACKFLOW_KAFKA_BROKERS: textOr('127.0.0.1:9092'),
  TRACKFLOW_KAFKA_CLIENT_ID: textOr('trackflow'),
  TRACKFLOW_KAFKA_TOPIC: textOr('trackflow.events'),
  TRACKFLOW_KAFKA_DLQ_TOPIC: text(),
  TRACKFLOW_KAFKA_PARTITIONS: int(6, 1, 1000),
  TRACKFLOW_KAFKA_GROUP: textOr('trackflow-warehouse'),
  // 2: the positional value format (docs/publish.md); 1 until every consumer reads v2 (a rolling upgrade).
  TRACKFLOW_KAFKA_MESSAGE_VERSION: int(2, 1, 2),
  TRACKFLOW_KAFKA_COMPRESSION: z.preprocess(
    blank,
    z.enum(KAFKA_COMPRESSIONS, { error: `must be ${KAFKA_COMPRESSIONS.join(', ')}` }).default(DEFAULT_KAFKA_COMPRESSION),
  ),
  TRACKFLOW_KAFKA_REPLICATION_FACTOR: optionalInt(1, 16),
  TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS: optionalInt(1, 16),
  TRACKFLOW_KAFKA_SASL_MECHANISM: z.preprocess(
    blank,
    z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], { error: 'must be plain, scram-sha-256 or scram-sha-512' }).optional(),
  ),
  TRACKFLOW_KAFKA_SASL_USERNAME: text(),
  TRACKFLOW_KAFKA_SASL_PASSWORD: text(),
  ...kafkaUserKeys(),

  TRACKFLOW_MYSQL_HOST: textOr('127.0.0.1'),
  TRACKFLOW_MYSQL_PORT: int(3306, 1, 65535),
  TRACKFLOW_MYSQL_DATABASE: textOr('trackflow'),
  TRACKFLOW_MYSQL_USER: textOr('trackflow_app'),
  TRACKFLOW_MYSQL_PASSWORD: required(),
  TRACKFLOW_MYSQL_ADMIN_USER: textOr('trackflow_admin'),
  TRACKFLOW_MYSQL_ADMIN_PASSWORD: text(),

  TRACKFLOW_TEMPORAL_ADDRESS: textOr('127.0.0.1:7233'),
  TRACKFLOW_TEMPORAL_NAMESPACE: textOr('default'),
  TRACKFLOW_TEMPORAL_UI_PORT: int(8233, 1, 65535),
  TRACKFLOW_TASK_QUEUE_PIPELINE: text(),
  TRACKFLOW_TASK_QUEUE_STREAM: text(),
  ...tlsKeys('TRACKFLOW_CASSANDRA'),
  ...tlsKeys('TRACKFLOW_KAFKA'),
  ...tlsKeys('TRACKFLOW_MYSQL'),
  ...tlsKeys('TRACKFLOW_TEMPORAL'),

  TRACKFLOW_CASSANDRA_SUPERUSER_PASSWORD: text(),
  TRACKFLOW_KAFKA_BROKER_PASSWORD: text(),

  TRACKFLOW_PIPELINE_METRICS_PORT: port(9464),
  TRACKFLOW_STREAM_METRICS_PORT: port(9465),
  TRACKFLOW_METRICS_HOST: textOr('127.0.0.1'),
  TRACKFLOW_SDK_METRICS_PORT: optionalInt(0, 65535),

  TRACKFLOW_INGEST_MAX_RECORD_BYTES: int(1 << 20, 1024, 64 << 20),
  TRACKFLOW_INGEST_MAX_RECORD_FIELDS: int(1000, 30, 100_000),
  TRACKFLOW_INGEST_MAX_DECOMPRESSED_BYTES: int(64 * 1024 ** 3, 1024),
  TRACKFLOW_INGEST_MAX_REJECTS: int(10_000, 0),
  TRACKFLOW_INGEST_MAX_REJECT_RATIO: ratio(0.5),
  TRACKFLOW_INGEST_REJECT_RATIO_MIN_RECORDS: int(1000, 1),
  TRACKFLOW_INGEST_HEARTBEAT_MS: int(5000, 100, 60_000),
  TRACKFLOW_STREAM_MAX_CONSUMERS: int(6, 1, 256),
  TRACKFLOW_INGEST_MAX_CONCURRENT_FILES: int(2, 1, 64),
  TRACKFLOW_PUBLISH_MAX_CONCURRENT: int(2, 1, 64),
  TRACKFLOW_STREAM_WORKER_ACTIVITIES: int(6, 1, 256),
  TRACKFLOW_PIPELINE_WORKER_ACTIVITIES: int(4, 1, 256),
});

/** The local stack's own settings (lib/stack, `npm run stack`); its client ports come from the client settings. */
export const stackSchema = z.object({
  TRACKFLOW_STACK_CASSANDRA_STORAGE_PORT: int(7000, 1, 65535),
  TRACKFLOW_STACK_KAFKA_CONTROLLER_PORT: int(9093, 1, 65535),
  TRACKFLOW_STACK_KAFKA_TLS_PORT: optionalInt(1, 65535),
  TRACKFLOW_STACK_PROMETHEUS_PORT: port(9090),
  TRACKFLOW_STACK_TLS: text(),
  TRACKFLOW_STACK_TOPOLOGY: z.preprocess(blank, z.enum(['single', 'cluster'], { error: 'must be single or cluster' }).optional()),
});

/** Set by the CLI's --verbose for its own child processes; the benchmark's optional Confluent client build. */
export const cliSchema = z.object({ TRACKFLOW_VERBOSE: bool(false), TRACKFLOW_CONFLUENT_DIR: text() });

export const envSchema = core;
export type Env = z.infer<typeof envSchema>;
export type StackEnv = z.infer<typeof stackSchema>;

/** Every TRACKFLOW_* key of every schema: what .env.example must document, and nothing more. */
export const DOCUMENTED_KEYS: readonly string[] = [envSchema, stackSchema, cliSchema].flatMap((s) => Object.keys(s.shape));

/**
 * Variables of the operating system or of Node that config also reads (not trackflow's to document):
 * XDG base directories for the state and cache defaults, NODE_ENV for test-only hooks.
 */
export const systemSchema = z.object({
  XDG_CACHE_HOME: text(),
  XDG_STATE_HOME: text(),
  NODE_ENV: text(),
  JAVA_HOME: text(),
});
export type SystemEnv = z.infer<typeof systemSchema>;
