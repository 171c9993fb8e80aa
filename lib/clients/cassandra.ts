import { Client, auth } from 'cassandra-driver';
import type { CassandraConfig } from '../config';
import { tlsOptions } from './tls';

/** A driver client; `keyspace` is left unset so callers can address any keyspace (tests use random ones). */
export function createCassandraClient(cfg: CassandraConfig, opts: { withKeyspace?: boolean } = {}): Client {
  return new Client({
    contactPoints: cfg.contactPoints,
    localDataCenter: cfg.localDataCenter,
    keyspace: opts.withKeyspace ? cfg.keyspace : undefined,
    authProvider: cfg.username ? new auth.PlainTextAuthProvider(cfg.username, cfg.password ?? '') : undefined,
    sslOptions: tlsOptions(cfg.tls),
    pooling: { coreConnectionsPerHost: { 0: 2, 1: 1, 2: 0 }, maxRequestsPerConnection: 2048 },
    socketOptions: { connectTimeout: 5000, readTimeout: 20000 },
    queryOptions: { prepare: true, consistency: 1 /* ONE: single-node lake, tunable via replication */ },
  });
}
