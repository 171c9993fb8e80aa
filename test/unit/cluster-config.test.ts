import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../lib/config';
import { consistencyCode, createCassandraClient } from '../../lib/clients/cassandra';
import { lakeReplication } from '../../lib/migrate/cassandra';
import { claimFile, refreshClaim, registerFile, releaseClaim } from '../../lib/ingest/claim';
import { clientTopologySettings, kafkaNodePort } from '../../lib/stack/topology';
import type { Client } from 'cassandra-driver';
import { types } from 'cassandra-driver';

const base = { TRACKFLOW_MYSQL_PASSWORD: 'x' };

test('consistency defaults: ONE on a single node, LOCAL_QUORUM and LOCAL_SERIAL on a replicated lake', () => {
  const single = loadConfig(base).cassandra;
  assert.deepEqual([single.consistency, single.serialConsistency], ['ONE', 'SERIAL']);
  const rf3 = loadConfig({ ...base, TRACKFLOW_CASSANDRA_REPLICATION_FACTOR: '3' }).cassandra;
  assert.deepEqual([rf3.consistency, rf3.serialConsistency], ['LOCAL_QUORUM', 'LOCAL_SERIAL']);
  assert.equal(consistencyCode(rf3.consistency), types.consistencies.localQuorum);
  assert.equal(consistencyCode(rf3.serialConsistency), types.consistencies.localSerial);
});

test('consistency and replication are validated at startup', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ TRACKFLOW_CASSANDRA_CONSISTENCY: 'MOSTLY' }, /must be one of/],
    [{ TRACKFLOW_CASSANDRA_CONSISTENCY: 'THREE' }, /needs 3 replicas/],
    [{ TRACKFLOW_CASSANDRA_REPLICATION_FACTOR: '3', TRACKFLOW_CASSANDRA_CONSISTENCY: 'ONE' }, /below a quorum/],
    [{ TRACKFLOW_CASSANDRA_SERIAL_CONSISTENCY: 'QUORUM' }, /must be one of SERIAL, LOCAL_SERIAL/],
    [{ TRACKFLOW_KAFKA_REPLICATION_FACTOR: '3', TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS: '3' }, /one broker down would stop every write/],
    [{ TRACKFLOW_KAFKA_REPLICATION_FACTOR: '1', TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS: '2' }, /exceeds/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => loadConfig({ ...base, ...env }), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
  }
  const ok = loadConfig({ ...base, TRACKFLOW_CASSANDRA_REPLICATION_FACTOR: '3', TRACKFLOW_CASSANDRA_CONSISTENCY: 'QUORUM', TRACKFLOW_KAFKA_REPLICATION_FACTOR: '3', TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS: '2' });
  assert.deepEqual([ok.cassandra.consistency, ok.kafka.replicationFactor, ok.kafka.minInsyncReplicas], ['QUORUM', 3, 2]);
});

test('the lake keyspace: SimpleStrategy on one node, NetworkTopologyStrategy in the local DC above it', () => {
  assert.equal(lakeReplication({ replicationFactor: 1, localDataCenter: 'datacenter1' }), `{'class': 'SimpleStrategy', 'replication_factor': 1}`);
  assert.equal(lakeReplication({ replicationFactor: 3, localDataCenter: 'datacenter1' }), `{'class': 'NetworkTopologyStrategy', 'datacenter1': 3}`);
  assert.throws(() => lakeReplication({ replicationFactor: 3, localDataCenter: "dc'1" }), ConfigError);
});

test('the cluster topology points the clients at every node, and back', () => {
  const c = clientTopologySettings('cluster', { cassandra: 39042, kafka: 39092 });
  assert.equal(c['TRACKFLOW_CASSANDRA_CONTACT_POINTS'], '127.0.0.1:39042,127.0.0.2:39042,127.0.0.3:39042');
  assert.equal(c['TRACKFLOW_KAFKA_BROKERS'], '127.0.0.1:39092,127.0.0.1:39102,127.0.0.1:39112');
  const cfg = loadConfig({ ...base, ...(c as Record<string, string>) });
  assert.deepEqual([cfg.cassandra.consistency, cfg.kafka.replicationFactor, cfg.kafka.minInsyncReplicas], ['LOCAL_QUORUM', 3, 2]);
  const s = clientTopologySettings('single', { cassandra: 39042, kafka: 39092 });
  assert.deepEqual([s['TRACKFLOW_CASSANDRA_CONTACT_POINTS'], s['TRACKFLOW_KAFKA_BROKERS'], s['TRACKFLOW_KAFKA_REPLICATION_FACTOR']], ['127.0.0.1:39042', '127.0.0.1:39092', undefined]);
  assert.equal(kafkaNodePort(39093, { n: 3, count: 3 }), 39113);
});

test('plain statements default to idempotent; the claim LWTs are sent as not idempotent', async () => {
  const client = createCassandraClient(loadConfig({ ...base, TRACKFLOW_CASSANDRA_REPLICATION_FACTOR: '3' }).cassandra);
  // The driver keeps its resolved options on the client (not in its typings).
  const { queryOptions } = (client as unknown as { options: { queryOptions: Record<string, unknown> } }).options;
  assert.equal(queryOptions['isIdempotent'], true);
  assert.equal(queryOptions['consistency'], types.consistencies.localQuorum);
  assert.equal(queryOptions['serialConsistency'], types.consistencies.localSerial);
  const seen: Array<{ query: string; opts: { isIdempotent?: boolean } }> = [];
  const fake = {
    execute: (query: string, _p: unknown, opts: { isIdempotent?: boolean }) => {
      seen.push({ query, opts });
      return Promise.resolve({ wasApplied: () => true, first: () => undefined });
    },
  } as unknown as Client;
  const k = { keyspace: 'ks', hash: 'h', batch: 'b', owner: 'o' };
  await claimFile(fake, k);
  await refreshClaim(fake, k);
  await releaseClaim(fake, k);
  await registerFile(fake, k, { sourceFile: 'f', size: 1, at: new Date() });
  assert.equal(seen.length, 4);
  for (const s of seen) {
    assert.match(s.query, / IF /, 'a conditional write');
    assert.equal(s.opts.isIdempotent, false, s.query);
  }
});
