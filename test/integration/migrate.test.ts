import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { config } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { CASSANDRA_MIGRATIONS_DIR, lakeReplication, migrateCassandra } from '../../lib/migrate/cassandra';
import { randomSuffix } from '../support/env';

void test('migrations run on a client that has not connected yet (as `npm run migrate` and `npm start` make it), applying every file once', async () => {
  const cfg = config();
  const keyspace = `trackflow_t_migrate_${randomSuffix()}`;
  const client = createCassandraClient(cfg.cassandra, { as: 'admin' });
  try {
    const files = fs.readdirSync(CASSANDRA_MIGRATIONS_DIR).filter((f) => /^\d+_.*\.cql$/.test(f)).sort().map((f) => f.replace(/\.cql$/, ''));
    assert.deepEqual(await migrateCassandra(client, keyspace, lakeReplication(cfg.cassandra)), files);
    assert.deepEqual(await migrateCassandra(client, keyspace, lakeReplication(cfg.cassandra)), [], 'a second run applies nothing');
  } finally {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await client.shutdown();
  }
});
