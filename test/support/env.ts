import crypto from 'node:crypto';
import type { Config } from '../../lib/config';
import { config as loadProcessConfig } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { migrateCassandra } from '../../lib/migrate/cassandra';
import { migrateMysql } from '../../lib/migrate/mysql';
import { Metrics } from '../../lib/metrics';
import type { ActivityDeps } from '../../activities/deps';

export function randomSuffix(): string {
  return crypto.randomBytes(4).toString('hex');
}

/**
 * A config isolated for one test: random keyspace, topic, consumer group and MySQL database,
 * so integration tests never see each other's data and can run against a shared stack.
 */
export function isolatedConfig(label: string): Config {
  const base = loadProcessConfig();
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 12)}_${randomSuffix()}`;
  return {
    ...base,
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
  };
}

export interface TestStack {
  config: Config;
  deps: ActivityDeps;
  close(): Promise<void>;
}

/** Builds real clients against the running stack, with migrated, isolated schemas. */
export async function openTestStack(label: string, opts: { migrate?: boolean } = {}): Promise<TestStack> {
  const cfg = isolatedConfig(label);
  const cassandra = createCassandraClient(cfg.cassandra);
  await cassandra.connect();
  const admin = createMysqlAdminPool(cfg.mysql);
  if (opts.migrate !== false) {
    await migrateCassandra(cassandra, cfg.cassandra.keyspace);
    await migrateMysql(admin, cfg.mysql.database);
  }
  const mysql = createMysqlPool(cfg.mysql);
  const kafka = createKafka(cfg.kafka, 'test');
  const deps: ActivityDeps = { cassandra, kafka, mysql, config: cfg, metrics: new Metrics() };
  return {
    config: cfg,
    deps,
    async close() {
      await mysql.end();
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
      } finally {
        await admin.end();
      }
      try {
        await cassandra.execute(`DROP KEYSPACE IF EXISTS ${cfg.cassandra.keyspace}`);
      } finally {
        await cassandra.shutdown();
      }
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
