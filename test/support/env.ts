import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import type { Config } from '../../lib/config';
import { config as loadProcessConfig, REPO_ROOT } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { ddl, lakeReplication, migrateCassandra, schemaAgreement } from '../../lib/migrate/cassandra';
import { migrateMysql, revokeMysqlApp } from '../../lib/migrate/mysql';
import { Metrics } from '../../lib/metrics';
import { SchemaDisagreement } from '../../lib/domain/errors';
import type { ActivityDeps } from '../../activities/deps';

export function randomSuffix(): string {
  return crypto.randomBytes(4).toString('hex');
}

/** Where tests keep their inputs: activities may read test fixtures and per-test temp directories. */
export const TEST_INPUT_DIRS = [path.join(REPO_ROOT, 'test'), os.tmpdir()];

/**
 * A config isolated for one test: random keyspace, topic, consumer group and MySQL database,
 * so integration tests never see each other's data and can run against a shared stack.
 * Random topics and groups are reachable only by the Kafka admin user (prefix ACLs on `trackflow.` and
 * `trackflow-`), so the test side, and the workers it spawns, sign in as that user.
 */
export function isolatedConfig(label: string): Config {
  const base = loadProcessConfig();
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}_${randomSuffix()}`;
  return {
    ...base,
    inputDirs: [...base.inputDirs, ...TEST_INPUT_DIRS],
    cassandra: { ...base.cassandra, keyspace: `trackflow_t_${id}` },
    kafka: {
      ...base.kafka,
      topic: `trackflow.t.${id}`,
      deadLetterTopic: `trackflow.t.${id}.dlq`,
      consumerGroup: `trackflow-t-${id}`,
    },
    mysql: { ...base.mysql, database: `trackflow_t_${id}` },
  };
}

/** Environment that points a child process (the CLI, a worker) at an isolated config's keyspace, topics and database. */
export function isolatedEnv(cfg: Config): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TRACKFLOW_CASSANDRA_KEYSPACE: cfg.cassandra.keyspace,
    TRACKFLOW_KAFKA_TOPIC: cfg.kafka.topic,
    TRACKFLOW_KAFKA_DLQ_TOPIC: cfg.kafka.deadLetterTopic,
    TRACKFLOW_KAFKA_GROUP: cfg.kafka.consumerGroup,
    TRACKFLOW_MYSQL_DATABASE: cfg.mysql.database,
    TRACKFLOW_INPUT_DIRS: TEST_INPUT_DIRS.join(path.delimiter),
    ...kafkaAdminAsEveryRole(cfg),
  };
}

/** Environment for child processes: publisher and stream sign in as the admin, who alone reaches test topics. */
function kafkaAdminAsEveryRole(cfg: Config): NodeJS.ProcessEnv {
  const admin = cfg.kafka.users.admin;
  if (!admin) return {};
  const env: NodeJS.ProcessEnv = {};
  for (const role of ['PUBLISHER', 'STREAM']) {
    env[`TRACKFLOW_KAFKA_${role}_USERNAME`] = admin.username;
    env[`TRACKFLOW_KAFKA_${role}_PASSWORD`] = admin.password;
  }
  return env;
}

/** Migrates a test's keyspace and database as the migration roles, granting the app roles on them. */
export async function migrateIsolated(cfg: Config): Promise<void> {
  const cassandra = createCassandraClient(cfg.cassandra, { as: 'admin' });
  const admin = createMysqlAdminPool(cfg.mysql);
  try {
    await migrateCassandra(cassandra, cfg.cassandra.keyspace, lakeReplication(cfg.cassandra), { appRole: cfg.cassandra.username });
    await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
  } finally {
    await cassandra.shutdown();
    await admin.end();
  }
}

/**
 * DROP KEYSPACE IF EXISTS is idempotent, so one refused while a node lags on the schema is asked again (ddl).
 * A node that still disagrees afterwards does not fail the test that is ending: the drop was applied by the
 * others, and the cluster suite's setup restarts that node (settleCassandraSchema).
 */
async function dropKeyspace(cassandra: Client, keyspace: string): Promise<void> {
  await schemaAgreement(cassandra);
  try {
    await ddl(cassandra, `DROP KEYSPACE IF EXISTS ${keyspace}`);
  } catch (err) {
    if (!(err instanceof SchemaDisagreement)) throw err;
    process.stderr.write(`test teardown: ${err.message}\n`);
  }
}

/** Drops a test's keyspace and database (and the app user's grant on it). */
export async function dropIsolated(cfg: Config): Promise<void> {
  const cassandra = createCassandraClient(cfg.cassandra, { as: 'admin' });
  const admin = createMysqlAdminPool(cfg.mysql);
  try {
    await revokeMysqlApp(admin, cfg.mysql.database, cfg.mysql.user).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
    await dropKeyspace(cassandra, cfg.cassandra.keyspace);
  } finally {
    await cassandra.shutdown();
    await admin.end();
  }
}

export interface TestStack {
  config: Config;
  deps: ActivityDeps;
  close(): Promise<void>;
}

/** Builds real clients against the running stack, with migrated, isolated schemas. */
export async function openTestStack(label: string, opts: { migrate?: boolean } = {}): Promise<TestStack> {
  const cfg = isolatedConfig(label);
  if (opts.migrate !== false) await migrateIsolated(cfg);
  const cassandra = createCassandraClient(cfg.cassandra);
  await cassandra.connect();
  const mysql = createMysqlPool(cfg.mysql);
  const kafka = createKafka(cfg.kafka, 'test');
  const deps: ActivityDeps = { cassandra, kafka, mysql, config: cfg, metrics: new Metrics() };
  return {
    config: cfg,
    deps,
    async close() {
      await mysql.end();
      await cassandra.shutdown();
      await dropIsolated(cfg);
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      try {
        const topics = await kafkaAdmin.listTopics();
        const mine = topics.filter((t) => t === cfg.kafka.topic || t === cfg.kafka.deadLetterTopic);
        if (mine.length) await kafkaAdmin.deleteTopics({ topics: mine });
      } finally {
        await kafkaAdmin.disconnect();
      }
    },
  };
}
