import { Client, auth } from 'cassandra-driver';
import type { CassandraConfig } from '../config';
import { hostOf, tlsOptions } from './tls';

/**
 * A driver client; `keyspace` is left unset so callers can address any keyspace (tests use random ones).
 * `as: 'admin'` signs in as the migration role (schema changes), otherwise as the app role (rows only).
 */
export function createCassandraClient(cfg: CassandraConfig, opts: { withKeyspace?: boolean; as?: 'app' | 'admin' } = {}): Client {
  const login = opts.as === 'admin' ? cfg.admin : cfg.username ? { username: cfg.username, password: cfg.password ?? '' } : undefined;
  if (opts.as === 'admin' && !login) throw new Error('TRACKFLOW_CASSANDRA_ADMIN_PASSWORD is not set: migrations need the migration role');
  return new Client({
    contactPoints: cfg.contactPoints,
    localDataCenter: cfg.localDataCenter,
    keyspace: opts.withKeyspace ? cfg.keyspace : undefined,
    authProvider: login ? new auth.PlainTextAuthProvider(login.username, login.password) : undefined,
    sslOptions: tlsOptions(cfg.tls, 'cassandra', hostOf(cfg.contactPoints[0])),
    pooling: { coreConnectionsPerHost: { 0: 2, 1: 1, 2: 0 }, maxRequestsPerConnection: 2048 },
    socketOptions: { connectTimeout: 5000, readTimeout: 20000 },
    queryOptions: { prepare: true, consistency: 1 /* ONE: single-node lake, tunable via replication */ },
  });
}
