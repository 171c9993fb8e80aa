import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'cassandra-driver';
import type { CassandraConfig } from '../config';
import { REPO_ROOT, assertIdentifier } from '../config';
import { migrationStatements } from './statements';
import { SchemaDisagreement } from '../domain/errors';

export const CASSANDRA_MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations', 'cassandra');

/** Splits a .cql file into statements; `--` comments are dropped and `${keyspace}` is substituted. */
export function cqlStatements(text: string, keyspace: string): string[] {
  return migrationStatements(text).map((s) => s.replaceAll('${keyspace}', keyspace));
}

/**
 * The lake keyspace's replication: SimpleStrategy on a single node, NetworkTopologyStrategy with the replication
 * factor in the local data center otherwise (what LOCAL_QUORUM counts against).
 */
export function lakeReplication(cfg: Pick<CassandraConfig, 'replicationFactor' | 'localDataCenter'>): string {
  if (cfg.replicationFactor <= 1) return `{'class': 'SimpleStrategy', 'replication_factor': 1}`;
  const dc = assertIdentifier('TRACKFLOW_CASSANDRA_LOCAL_DC', cfg.localDataCenter, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
  return `{'class': 'NetworkTopologyStrategy', '${dc}': ${cfg.replicationFactor}}`;
}

/**
 * Applies migrations/cassandra/NNN_name.cql in order, once each. The keyspace is created first because the
 * migration ledger lives inside it; replication comes from config so production can use NetworkTopologyStrategy.
 */
export async function migrateCassandra(
  client: Client,
  keyspace: string,
  replication = `{'class': 'SimpleStrategy', 'replication_factor': 1}`,
  opts: { appRole?: string } = {},
): Promise<string[]> {
  assertIdentifier('keyspace', keyspace);
  await requireSchemaAgreement(client);
  await ddl(client, `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${replication}`);
  if (opts.appRole) await grantCassandraApp(client, keyspace, opts.appRole);
  await ddl(client, `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations (version text PRIMARY KEY, applied_at timestamp)`);
  const applied = new Set(
    (await client.execute(`SELECT version FROM ${keyspace}.schema_migrations`)).rows.map((r) => String(r['version'])),
  );
  const files = fs.readdirSync(CASSANDRA_MIGRATIONS_DIR).filter((f) => /^\d+_.*\.cql$/.test(f)).sort();
  const done: string[] = [];
  for (const file of files) {
    const version = file.replace(/\.cql$/, '');
    if (applied.has(version)) continue;
    const text = fs.readFileSync(path.join(CASSANDRA_MIGRATIONS_DIR, file), 'utf8');
    for (const statement of cqlStatements(text, keyspace)) await ddl(client, statement);
    await client.execute(`INSERT INTO ${keyspace}.schema_migrations (version, applied_at) VALUES (?, ?)`, [
      version,
      new Date(),
    ], { prepare: true });
    done.push(version);
  }
  return done;
}

/** The app role reads and writes rows of the keyspace and nothing else (no CREATE, ALTER, DROP, AUTHORIZE). */
export async function grantCassandraApp(client: Client, keyspace: string, appRole: string): Promise<void> {
  assertIdentifier('keyspace', keyspace);
  assertIdentifier('Cassandra app role', appRole);
  await ddl(client, `GRANT SELECT ON KEYSPACE ${keyspace} TO ${appRole}`);
  await ddl(client, `GRANT MODIFY ON KEYSPACE ${keyspace} TO ${appRole}`);
}

/**
 * Waits (up to `timeoutMs`) until every node that is up reports the same schema version. A node that was just
 * restarted can lag behind the others' schema for a while, and a statement it coordinates then fails with
 * `Unknown CF` or `Resource <keyspace> doesn't exist`. The driver exposes the check but not its types.
 */
export async function schemaAgreement(client: Client, timeoutMs = 60_000): Promise<boolean> {
  // The check runs on the control connection, which a client that has not connected yet does not have
  // (it would read as disagreement forever); connect() on a connected client returns at once.
  await client.connect();
  const metadata = client.metadata as unknown as { checkSchemaAgreement(): Promise<boolean> };
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await metadata.checkSchemaAgreement()) return true;
    if (Date.now() >= until) return false;
    await sleep(1000);
  }
}

/** Each node's schema version, as one coordinator sees them (its own, and its peers' from gossip). */
export async function schemaVersions(client: Client): Promise<Map<string, string>> {
  const host = client.getState().getConnectedHosts()[0];
  const opts = host ? { host } : {};
  const local = (await client.execute('SELECT broadcast_address, schema_version FROM system.local', [], opts)).first();
  const peers = (await client.execute('SELECT peer, schema_version FROM system.peers', [], opts)).rows;
  const versions = new Map<string, string>();
  if (local) versions.set(String(local['broadcast_address']), String(local['schema_version']));
  for (const p of peers) versions.set(String(p['peer']), String(p['schema_version']));
  return versions;
}

/**
 * Refuses to go on while the nodes disagree on the schema after `timeoutMs`: a statement could be coordinated
 * by the node that lags. The message names each version's nodes; a node that never catches up (Cassandra
 * fails its schema merge after some restarts) needs `nodetool resetlocalschema` or a restart (docs/deploy.md).
 */
export async function requireSchemaAgreement(client: Client, timeoutMs = 60_000): Promise<void> {
  if (await schemaAgreement(client, timeoutMs)) return;
  const byVersion = new Map<string, string[]>();
  for (const [node, version] of await schemaVersions(client)) byVersion.set(version, [...(byVersion.get(version) ?? []), node]);
  const detail = [...byVersion].map(([v, nodes]) => `${nodes.sort().join(', ')} at ${v.slice(0, 8)}`).join('; ');
  throw new SchemaDisagreement(
    `Cassandra nodes disagree on the schema after ${Math.round(timeoutMs / 1000)} s (${detail}): restart or \`nodetool resetlocalschema\` the node that lags (docs/deploy.md)`,
  );
}

const SCHEMA_LAG = /doesn't exist|does not exist|unknown (cf|table|keyspace)|unconfigured table/i;

/** Whether a refusal is what a coordinator answers for an object it has not learned of yet: schema lag, worth asking again. */
export function isSchemaLag(err: unknown): boolean {
  return err instanceof Error && SCHEMA_LAG.test(err.message);
}

/**
 * One schema statement (every one trackflow runs is idempotent: IF [NOT] EXISTS, or a GRANT), then the wait
 * for every node to agree on the result. A refusal that reads as schema lag is asked again, up to 5 times.
 */
export async function ddl(client: Client, statement: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.execute(statement);
    } catch (err) {
      if (attempt >= 5 || !isSchemaLag(err)) throw err;
      await requireSchemaAgreement(client);
      await sleep(1000 * attempt);
      continue;
    }
    await requireSchemaAgreement(client);
    return;
  }
}
