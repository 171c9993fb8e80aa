import { execFile } from 'node:child_process';
import type { Config } from '../config';
import { createCassandraClient } from '../clients/cassandra';
import { logLevel } from 'kafkajs';
import { createKafka } from '../clients/kafka';
import { createMysqlPool } from '../clients/mysql';
import { temporalBinaryPath } from './paths';

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkCassandra(cfg: Config): Promise<string> {
  const client = createCassandraClient(cfg.cassandra);
  try {
    const rs = await withTimeout(
      client.execute('SELECT release_version FROM system.local'),
      8000,
      'CQL query',
    );
    return `Cassandra ${String(rs.first()?.['release_version'])}`;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** One broker of a cluster: it answers, and the cluster's metadata lists it (registered with the quorum). */
export async function checkKafkaNode(cfg: Config, broker: string, nodeId: number): Promise<string> {
  const kafka = createKafka({ ...cfg.kafka, brokers: [broker] }, 'health', { logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await withTimeout(admin.connect(), 8000, 'Kafka connect');
    const cluster = await withTimeout(admin.describeCluster(), 8000, 'Kafka describeCluster');
    if (!cluster.brokers.some((b) => b.nodeId === nodeId)) throw new Error(`broker ${nodeId} is not registered yet (${cluster.brokers.length} broker(s))`);
    return `Kafka cluster ${cluster.clusterId}, broker ${nodeId} of ${cluster.brokers.length}, controller ${cluster.controller}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function checkKafka(cfg: Config): Promise<string> {
  const kafka = createKafka(cfg.kafka, 'health', { logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await withTimeout(admin.connect(), 8000, 'Kafka connect');
    const cluster = await withTimeout(admin.describeCluster(), 8000, 'Kafka describeCluster');
    return `Kafka cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function checkMysql(cfg: Config): Promise<string> {
  const pool = createMysqlPool(cfg.mysql, { connectionLimit: 1 });
  try {
    const [rows] = await withTimeout(pool.query('SELECT 1 AS ok, VERSION() AS version'), 8000, 'SELECT 1');
    const row = (rows as Array<{ ok: number; version: string }>)[0];
    if (row?.ok !== 1) throw new Error('SELECT 1 did not return 1');
    return `MariaDB/MySQL ${row.version} (as ${cfg.mysql.user})`;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

export function checkTemporal(cfg: Config, binary = temporalBinaryPath()): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ['operator', 'cluster', 'health', '--address', cfg.temporal.address, '--command-timeout', '5s'],
      { timeout: 8000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`temporal operator cluster health: ${(stderr || err.message).trim()}`));
        const out = stdout.trim();
        if (!out.includes('SERVING')) return reject(new Error(`temporal health answered "${out}"`));
        resolve(`Temporal ${out}, Web UI http://localhost:${cfg.temporal.uiPort}`);
      },
    );
  });
}
