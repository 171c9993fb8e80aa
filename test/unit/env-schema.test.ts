import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { ConfigError, REPO_ROOT, loadConfig } from '../../lib/config';
import { DOCUMENTED_KEYS } from '../../lib/envSchema';

/** Keys of `.env.example`, set (`KEY=`) or documented as a commented-out line (`# KEY=`). */
function exampleKeys(): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  return [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
}

test('.env.example documents every key of the schema, and nothing the schema does not read', () => {
  const documented = new Set(exampleKeys());
  const schema = new Set(DOCUMENTED_KEYS);
  assert.deepEqual([...schema].filter((k) => !documented.has(k)), [], 'read but not in .env.example');
  assert.deepEqual([...documented].filter((k) => !schema.has(k)), [], 'in .env.example but read by nothing');
});

test('.env.example lists each key once', () => {
  const keys = exampleKeys();
  assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), []);
});

test('the schema rejects a bad value naming the variable, and never echoes a password', () => {
  const env = { TRACKFLOW_MYSQL_PASSWORD: 'a1b2c3d4' };
  assert.throws(() => loadConfig({ ...env, TRACKFLOW_MYSQL_PORT: 'x' }), /^ConfigError: TRACKFLOW_MYSQL_PORT must be an integer between 1 and 65535, got "x"$/);
  assert.throws(() => loadConfig({ ...env, TRACKFLOW_KAFKA_TLS: 'maybe' }), /TRACKFLOW_KAFKA_TLS must be true or false/);
  assert.throws(() => loadConfig({ ...env, TRACKFLOW_LOG_LEVEL: 'loud' }), /TRACKFLOW_LOG_LEVEL must be trace, debug, info, warn or error/);
  assert.throws(() => loadConfig({}), (err: unknown) => err instanceof ConfigError && /^TRACKFLOW_MYSQL_PASSWORD is not set/.test(err.message));
  assert.throws(
    () => loadConfig({ ...env, TRACKFLOW_KAFKA_SASL_MECHANISM: 'scram-sha-512', TRACKFLOW_KAFKA_SASL_USERNAME: 'u' }),
    (err: unknown) => err instanceof ConfigError && /TRACKFLOW_KAFKA_SASL_PASSWORD is not set/.test(err.message),
  );
});

test('defaults, blanks and booleans as the example writes them', () => {
  const cfg = loadConfig({ TRACKFLOW_MYSQL_PASSWORD: 'a1b2c3d4', TRACKFLOW_MYSQL_PORT: '', TRACKFLOW_KAFKA_TLS: 'TRUE', TRACKFLOW_KAFKA_PARTITIONS: ' 12 ' });
  assert.equal(cfg.mysql.port, 3306);
  assert.equal(cfg.kafka.tls.enabled, true);
  assert.equal(cfg.kafka.partitions, 12);
  assert.equal(cfg.kafka.deadLetterTopic, 'trackflow.events.dlq');
  assert.equal(cfg.metrics.host, '127.0.0.1');
  assert.equal(cfg.log.level, 'info');
  assert.equal(cfg.cassandra.tls.rejectUnauthorized, true);
});
