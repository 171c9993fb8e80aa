/**
 * The strict stack (`npm run stack -- up --tls`): each server refuses a client that does not speak TLS, while
 * the same client with TLS and the stack's CA is served. On the default stack, which only offers TLS, these
 * tests skip (the plaintext logins there are the default configuration).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLevel } from 'kafkajs';
import type { TlsConfig } from '../../lib/config';
import { config } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { createKafka } from '../../lib/clients/kafka';
import { createMysqlPool } from '../../lib/clients/mysql';
import { stackCerts } from '../../lib/stack/tls';
import { stackTlsMode } from '../../lib/stack/tlsMode';

const base = config();
const ca = stackCerts().ca;
const mode = stackTlsMode();
const skip = mode === 'required' ? false : `the stack runs with TLS ${mode}, not required (npm run stack -- up --tls)`;
const withTls: TlsConfig = { enabled: true, caFile: ca, rejectUnauthorized: true };
const plaintext: TlsConfig = { enabled: false, rejectUnauthorized: true };

test('strict TLS: MariaDB refuses a login without TLS (require_secure_transport)', { skip }, async () => {
  const good = createMysqlPool({ ...base.mysql, tls: withTls }, { connectionLimit: 1 });
  try {
    const [rows] = await good.query("SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'");
    assert.equal((rows as Array<{ Value: string }>)[0]?.Value, 'ON');
  } finally {
    await good.end();
  }
  // The same user and password, without TLS. MySQL answers ER_SECURE_TRANSPORT_REQUIRED (3159); MariaDB 10.11
  // refuses the login as ER_ACCESS_DENIED_ERROR (1045), the answer it gives with require_secure_transport=ON
  // (with it OFF the same plaintext login succeeds, as on the default stack).
  const bad = createMysqlPool({ ...base.mysql, tls: plaintext }, { connectionLimit: 1 });
  await assert.rejects(bad.query('SELECT 1'), (err: Error & { code?: string }) => {
    assert.ok(err.code === 'ER_SECURE_TRANSPORT_REQUIRED' || err.code === 'ER_ACCESS_DENIED_ERROR', `${err.code}: ${err.message}`);
    assert.match(err.message, /insecure transport are prohibited|Access denied for user .* \(using password: YES\)/);
    return true;
  }).finally(() => bad.end());
});

test('strict TLS: Kafka has no plaintext client listener', { skip }, async () => {
  const kafkaWith = (t: TlsConfig) =>
    createKafka({ ...base.kafka, tls: t }, 'tls-required', { logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 } });
  const good = kafkaWith(withTls).admin();
  await good.connect();
  try {
    const cluster = await good.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => `${b.host}:${b.port}`), base.kafka.brokers, 'the only listener advertised is the SASL_SSL one');
  } finally {
    await good.disconnect();
  }
  const bad = kafkaWith(plaintext).admin({ retry: { retries: 0 } });
  await assert.rejects(bad.connect(), (err: Error) => {
    assert.match(err.name, /^KafkaJS(Connection|NumberOfRetriesExceeded|Request)/, `${err.name}: ${err.message}`);
    return true;
  });
  await bad.disconnect().catch(() => undefined);
});

test('strict TLS: Cassandra refuses a plaintext native-protocol connection (client encryption not optional)', { skip }, async () => {
  const good = createCassandraClient({ ...base.cassandra, tls: withTls });
  try {
    const rs = await good.execute('SELECT release_version FROM system.local');
    assert.ok(rs.first()?.['release_version']);
  } finally {
    await good.shutdown();
  }
  const bad = createCassandraClient({ ...base.cassandra, tls: plaintext });
  await assert.rejects(bad.connect(), (err: Error & { innerErrors?: Record<string, Error> }) => {
    assert.equal(err.name, 'NoHostAvailableError', `${err.name}: ${err.message}`);
    assert.ok(Object.keys(err.innerErrors ?? {}).length > 0, 'every contact point refused');
    return true;
  });
  await bad.shutdown();
});
