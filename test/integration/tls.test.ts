/**
 * TLS against the real servers: the stack offers TLS with its own CA (lib/stack/tls.ts) on Cassandra's and
 * MariaDB's ports and on Kafka's SASL_SSL listener. trackflow's clients must verify both the CA and the host
 * name: a server certificate from another CA, or one that does not name the host dialled, is refused.
 */
import assert from 'node:assert/strict';
import dns from 'node:dns/promises';
import os from 'node:os';
import { test } from 'node:test';
import { logLevel } from 'kafkajs';
import type { Config, TlsConfig } from '../../lib/config';
import { config } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlPool } from '../../lib/clients/mysql';
import { stackCerts } from '../../lib/stack/tls';
import { kafkaTlsPort as tlsPortOf } from '../../lib/stack/tlsMode';

const certs = stackCerts();
const base = config();
const kafkaTlsPort = tlsPortOf(Number(base.kafka.brokers[0]?.split(':').pop() ?? 9092));

const tls = (caFile: string, servername?: string): TlsConfig => ({ enabled: true, caFile, rejectUnauthorized: true, servername });
const WRONG_CA = /self[- ]signed certificate|unable to (get local issuer|verify)/i;
const WRONG_HOST = /Hostname\/IP does not match certificate's altnames|not in the cert's altnames/i;

function mysqlOver(t: TlsConfig, host = base.mysql.host): Config['mysql'] {
  return { ...base.mysql, host, tls: t };
}

test('MySQL over TLS: verified with the stack CA; another CA is refused', async () => {
  const good = createMysqlPool(mysqlOver(tls(certs.ca)), { connectionLimit: 1 });
  try {
    const [rows] = await good.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
    assert.ok((rows as Array<{ Value: string }>)[0]?.Value, 'the session is encrypted');
  } finally {
    await good.end();
  }
  const bad = createMysqlPool(mysqlOver(tls(certs.otherCa)), { connectionLimit: 1 });
  await assert.rejects(bad.query('SELECT 1'), WRONG_CA).finally(() => bad.end());
});

test('MySQL over TLS: a host name the certificate does not carry is refused (verifyIdentity)', async (t) => {
  // Another name of this machine that resolves to the loopback address MariaDB listens on.
  const alias = os.hostname();
  const addr = await dns.lookup(alias, { family: 4 }).catch(() => undefined);
  if (alias === 'localhost' || addr?.address !== '127.0.0.1') return t.skip(`${alias} does not resolve to 127.0.0.1`);
  const pool = createMysqlPool(mysqlOver(tls(certs.ca), alias), { connectionLimit: 1 });
  await assert.rejects(pool.query('SELECT 1'), WRONG_HOST).finally(() => pool.end());
});

test('Cassandra over TLS: verified with the stack CA; another CA or another host name is refused', async () => {
  const good = createCassandraClient({ ...base.cassandra, tls: tls(certs.ca) });
  try {
    const rs = await good.execute('SELECT release_version FROM system.local');
    assert.ok(rs.first()?.['release_version']);
  } finally {
    await good.shutdown();
  }
  for (const [t, rule] of [[tls(certs.otherCa), WRONG_CA], [tls(certs.ca, 'wrong.invalid'), WRONG_HOST]] as const) {
    const bad = createCassandraClient({ ...base.cassandra, tls: t });
    await assert.rejects(bad.connect(), (err: Error & { innerErrors?: Record<string, Error> }) => {
      const inner = Object.values(err.innerErrors ?? {}).map((e) => e.message).join(' | ');
      assert.match(`${err.message} ${inner}`, rule);
      return true;
    });
    await bad.shutdown();
  }
});

test('Kafka over SASL_SSL: verified with the stack CA; another CA or another host name is refused', async () => {
  const kafkaOver = (t: TlsConfig) =>
    createKafka({ ...base.kafka, brokers: [`127.0.0.1:${kafkaTlsPort}`], tls: t }, 'tls', { logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const good = kafkaOver(tls(certs.ca)).admin();
  await good.connect();
  try {
    const cluster = await good.describeCluster();
    assert.equal(cluster.brokers[0]?.port, kafkaTlsPort);
  } finally {
    await good.disconnect();
  }
  for (const [t, rule] of [[tls(certs.otherCa), WRONG_CA], [tls(certs.ca, 'wrong.invalid'), WRONG_HOST]] as const) {
    const bad = kafkaOver(t).admin({ retry: { retries: 0 } });
    await assert.rejects(bad.connect(), rule);
    await bad.disconnect().catch(() => undefined);
  }
});
