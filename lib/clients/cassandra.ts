import { Client, auth, policies, types } from 'cassandra-driver';
import type { CassandraConfig, CassandraConsistency, CassandraSerialConsistency } from '../config';
import { hostOf, tlsOptions } from './tls';

const LEVELS: Record<CassandraConsistency | CassandraSerialConsistency, number> = {
  ONE: types.consistencies.one,
  TWO: types.consistencies.two,
  THREE: types.consistencies.three,
  QUORUM: types.consistencies.quorum,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  EACH_QUORUM: types.consistencies.eachQuorum,
  LOCAL_ONE: types.consistencies.localOne,
  ALL: types.consistencies.all,
  SERIAL: types.consistencies.serial,
  LOCAL_SERIAL: types.consistencies.localSerial,
};

/** The driver's code of a configured consistency level. */
export function consistencyCode(level: CassandraConsistency | CassandraSerialConsistency): number {
  return LEVELS[level];
}

/**
 * The driver's default policy, except that a read timeout is retried once on the next host and a write timeout
 * of an idempotent statement twice (same level) instead of rethrown: every plain trackflow write is an upsert by primary key, so writing it again
 * cannot double anything. The driver itself never asks this policy about a socket error, client timeout or
 * write timeout of a statement that is not idempotent (lightweight transactions), so those still fail.
 */
export class UpsertRetryPolicy extends policies.retry.RetryPolicy {
  override onWriteTimeout(info: policies.retry.OperationInfo, consistency: types.consistencies): policies.retry.DecisionInfo {
    return info.nbRetry < 2 ? this.retryResult(consistency, false) : this.rethrowResult();
  }

  override onReadTimeout(info: policies.retry.OperationInfo, consistency: types.consistencies): policies.retry.DecisionInfo {
    // Too few replicas answered: one just died and the coordinator has not convicted it yet. A read changes
    // nothing, so it is asked once more of the next coordinator, whose view may already exclude the node.
    return info.nbRetry < 1 ? this.retryResult(consistency, false) : this.rethrowResult();
  }

  override onUnavailable(info: policies.retry.OperationInfo, consistency: types.consistencies): policies.retry.DecisionInfo {
    // The coordinator's view of a dead replica can lag the ring by a few seconds: another coordinator may do.
    return info.nbRetry < 1 ? this.retryResult(consistency, false) : this.rethrowResult();
  }
}

/**
 * Token-aware over DC-aware round robin: each statement goes to a replica of its partition in the local data
 * center, and a dead node is skipped until it is back.
 */
export function loadBalancing(cfg: CassandraConfig, pinnedTo?: string): policies.loadBalancing.LoadBalancingPolicy {
  const dcAware = new policies.loadBalancing.DCAwareRoundRobinPolicy(cfg.localDataCenter);
  // A health check of one node: nothing else may answer for it.
  if (pinnedTo) return new policies.loadBalancing.AllowListPolicy(dcAware, [pinnedTo]);
  return new policies.loadBalancing.TokenAwarePolicy(dcAware);
}

/**
 * A driver client; `keyspace` is left unset so callers can address any keyspace (tests use random ones).
 * `as: 'admin'` signs in as the migration role (schema changes), otherwise as the app role (rows only).
 *
 * Statements default to idempotent: every plain write of trackflow is an upsert or delete by primary key
 * (no counters, no list appends), so the driver may send it again to another node after a timeout or a lost
 * connection. Lightweight transactions (lib/ingest/claim.ts) opt out with `isIdempotent: false`.
 */
export function createCassandraClient(
  cfg: CassandraConfig,
  opts: { withKeyspace?: boolean; as?: 'app' | 'admin'; login?: { username: string; password: string }; pinnedTo?: string } = {},
): Client {
  const login = opts.login ?? (opts.as === 'admin' ? cfg.admin : cfg.username ? { username: cfg.username, password: cfg.password ?? '' } : undefined);
  if (opts.as === 'admin' && !login) throw new Error('TRACKFLOW_CASSANDRA_ADMIN_PASSWORD is not set: migrations need the migration role');
  const port = Number(cfg.contactPoints[0]?.split(':').pop());
  return new Client({
    contactPoints: cfg.contactPoints,
    localDataCenter: cfg.localDataCenter,
    keyspace: opts.withKeyspace ? cfg.keyspace : undefined,
    authProvider: login ? new auth.PlainTextAuthProvider(login.username, login.password) : undefined,
    sslOptions: tlsOptions(cfg.tls, 'cassandra', hostOf(cfg.contactPoints[0])),
    ...(Number.isInteger(port) && port > 0 ? { protocolOptions: { port } } : {}),
    policies: { loadBalancing: loadBalancing(cfg, opts.pinnedTo), retry: new UpsertRetryPolicy() },
    pooling: { coreConnectionsPerHost: { 0: 2, 1: 1, 2: 0 }, maxRequestsPerConnection: 2048 },
    socketOptions: { connectTimeout: 5000, readTimeout: 20000 },
    queryOptions: {
      prepare: true,
      consistency: consistencyCode(cfg.consistency),
      serialConsistency: consistencyCode(cfg.serialConsistency),
      isIdempotent: true,
    },
  });
}
