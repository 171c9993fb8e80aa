import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { types } from 'cassandra-driver';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, logLevel } from 'kafkajs';
import type { AclEntry } from 'kafkajs';
import type { Config, Credential, KafkaRole } from '../config';
import { assertIdentifier } from '../config';
import { createKafka } from '../clients/kafka';
import { createCassandraClient } from '../clients/cassandra';
import { stateDir } from './paths';

/**
 * Secrets only the stack itself uses (Cassandra's superuser, Kafka's broker user): kept in the state
 * directory (0700, files 0600), never in `.env`, so neither the app nor the migrations ever see them.
 */
export function stackSecret(name: string): string {
  const dir = path.join(stateDir(), 'secrets');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(24).toString('hex'), { mode: 0o600, flag: 'wx' });
  return fs.readFileSync(file, 'utf8').trim();
}

/** The stack's own superuser; the distribution's default `cassandra` role is disabled once it exists. */
export const CASSANDRA_SUPERUSER = 'trackflow_root';
export const KAFKA_BROKER_USER = 'trackflow_broker';

/** Literal for a CQL or SQL string; the secrets are hex, but a hand-set one must not break out of the quotes. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A client signed in as `login`; `pinnedTo` (host:port): that node alone, for a check of one cluster node. */
function cassandraAs(cfg: Config, login: Credential, pinnedTo?: string): Client {
  const cassandra = pinnedTo ? { ...cfg.cassandra, contactPoints: [pinnedTo] } : cfg.cassandra;
  return createCassandraClient(cassandra, { login, pinnedTo });
}

async function tryConnect(cfg: Config, login: Credential, pinnedTo?: string): Promise<Client | undefined> {
  const client = cassandraAs(cfg, login, pinnedTo);
  try {
    await client.connect();
    return client;
  } catch {
    await client.shutdown().catch(() => undefined);
    return undefined;
  }
}

/** Signs in as the stack's superuser, or (first start) as the distribution default to create it. */
export async function cassandraSuperuser(cfg: Config, pinnedTo?: string): Promise<Client> {
  const root = { username: CASSANDRA_SUPERUSER, password: stackSecret('cassandra-superuser') };
  const existing = await tryConnect(cfg, root, pinnedTo);
  if (existing) return existing;
  const initial = await tryConnect(cfg, { username: 'cassandra', password: 'cassandra' }, pinnedTo);
  if (!initial) throw new Error(`neither ${CASSANDRA_SUPERUSER} nor the default superuser can sign in (yet)`);
  try {
    await initial.execute(
      `CREATE ROLE IF NOT EXISTS ${CASSANDRA_SUPERUSER} WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = ${quoteLiteral(root.password)}`,
    );
  } finally {
    await initial.shutdown();
  }
  const client = await tryConnect(cfg, root, pinnedTo);
  if (!client) throw new Error(`${CASSANDRA_SUPERUSER} was created but cannot sign in`);
  return client;
}

/**
 * Roles of the lake: the app role gets rows only (SELECT, MODIFY, granted per keyspace by the migration), the
 * migration role may create keyspaces (and so owns the ones it creates). The default superuser is disabled.
 */
export async function setupCassandraRoles(cfg: Config): Promise<void> {
  const c = cfg.cassandra;
  if (!c.username || !c.password || !c.admin) {
    throw new Error('TRACKFLOW_CASSANDRA_USERNAME/PASSWORD and TRACKFLOW_CASSANDRA_ADMIN_PASSWORD must be set (see .env.example)');
  }
  const client = await cassandraSuperuser(cfg);
  try {
    for (const login of [{ username: c.username, password: c.password }, c.admin]) {
      const role = assertIdentifier('Cassandra role', login.username);
      await client.execute(`CREATE ROLE IF NOT EXISTS ${role} WITH LOGIN = true AND PASSWORD = ${quoteLiteral(login.password)}`);
      await client.execute(`ALTER ROLE ${role} WITH PASSWORD = ${quoteLiteral(login.password)}`);
    }
    await client.execute(`GRANT CREATE ON ALL KEYSPACES TO ${c.admin.username}`);
    // A lake keyspace made before authentication was on (by nobody) is handed to the migration role, which
    // otherwise could neither alter it nor grant the app role on it.
    const lake = assertIdentifier('TRACKFLOW_CASSANDRA_KEYSPACE', c.keyspace);
    const exists = await client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [lake], { prepare: true });
    if (exists.rowLength) await client.execute(`GRANT ALL PERMISSIONS ON KEYSPACE ${lake} TO ${c.admin.username}`);
    await client.execute(`ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false`);
  } finally {
    await client.shutdown();
  }
}

/** system_auth as the lake: NetworkTopologyStrategy, one replica per node, so a lost node loses no login. */
function authReplication(cfg: Config, nodes: number): string {
  const dc = assertIdentifier('TRACKFLOW_CASSANDRA_LOCAL_DC', cfg.cassandra.localDataCenter, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);
  return `{'class': 'NetworkTopologyStrategy', '${dc}': ${nodes}}`;
}

/** The system_auth tables that hold logins and grants. */
const AUTH_TABLES = ['roles', 'role_members', 'role_permissions', 'resource_role_permissons_index'];

/** Reads every row of the auth tables at ALL: the read repair copies each one to every replica. */
async function repairAuthByReading(client: Client): Promise<void> {
  for (const table of AUTH_TABLES) {
    await new Promise<void>((resolve, reject) =>
      client.eachRow(`SELECT * FROM system_auth.${table}`, [], { consistency: types.consistencies.all, fetchSize: 500, autoPage: true }, () => undefined, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
}

/**
 * Once every node of a cluster has joined: system_auth goes from one replica to one per node, and its tables
 * are read at ALL, whose read repair copies every role and grant to the new replicas (there is no JMX here
 * for `nodetool repair`). A later `up` repeats the reads when every node is up (a no-op then) and goes on
 * without them when one is not; the roles follow.
 */
export async function setupCassandraCluster(cfg: Config): Promise<void> {
  const client = await cassandraSuperuser(cfg);
  try {
    const ks = await client.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'system_auth'");
    const replication = (ks.first()?.['replication'] ?? {}) as Record<string, string>;
    const nodes = 1 + (await client.execute('SELECT peer FROM system.peers')).rowLength;
    const altered = replication[cfg.cassandra.localDataCenter] !== String(nodes);
    if (altered) await client.execute(`ALTER KEYSPACE system_auth WITH replication = ${authReplication(cfg, nodes)}`);
    try {
      await repairAuthByReading(client);
    } catch (err) {
      if (altered) throw err;
    }
  } finally {
    await client.shutdown();
  }
  await setupCassandraRoles(cfg);
}

const acl = (
  principal: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  operation: AclOperationTypes,
  prefixed = false,
): AclEntry => ({
  principal: `User:${principal}`,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

/** Topic and group names the test suite and the benchmark create: only the admin and bench users reach them. */
export const TEST_TOPIC_PREFIX = 'trackflow.';
export const TEST_GROUP_PREFIX = 'trackflow-';
export const BENCH_TOPIC_PREFIX = 'trackflow.bench.';
export const BENCH_GROUP_PREFIX = 'trackflow-bench';

/** Who may do what: each component gets exactly the operations its code performs. */
export function kafkaAcls(cfg: Config): AclEntry[] {
  const { topic, deadLetterTopic, consumerGroup, users } = cfg.kafka;
  const name = (role: KafkaRole) => users[role]?.username;
  const out: AclEntry[] = [];
  const T = AclResourceTypes.TOPIC;
  const G = AclResourceTypes.GROUP;
  const O = AclOperationTypes;
  const publisher = name('publisher');
  if (publisher) for (const op of [O.WRITE, O.DESCRIBE, O.CREATE]) out.push(acl(publisher, T, topic, op));
  const stream = name('stream');
  if (stream) {
    // The group is a prefix: C parallel consumers join `<group>.slice-i-of-C` (lib/stream/slice.ts).
    for (const op of [O.READ, O.DESCRIBE]) out.push(acl(stream, T, topic, op), acl(stream, G, consumerGroup, op, true));
    for (const op of [O.WRITE, O.DESCRIBE, O.CREATE]) out.push(acl(stream, T, deadLetterTopic, op));
  }
  const admin = name('admin');
  if (admin) {
    out.push(acl(admin, AclResourceTypes.CLUSTER, 'kafka-cluster', O.CREATE), acl(admin, AclResourceTypes.CLUSTER, 'kafka-cluster', O.DESCRIBE));
    out.push(acl(admin, T, TEST_TOPIC_PREFIX, O.ALL, true), acl(admin, G, TEST_GROUP_PREFIX, O.ALL, true));
  }
  const bench = name('bench');
  if (bench) out.push(acl(bench, T, BENCH_TOPIC_PREFIX, O.ALL, true), acl(bench, G, BENCH_GROUP_PREFIX, O.ALL, true));
  return out;
}

/** The broker's own login, a super user: creates the ACLs, and is what the broker uses between listeners. */
export function kafkaBrokerLogin(): Credential {
  return { username: KAFKA_BROKER_USER, password: stackSecret('kafka-broker') };
}

export async function setupKafkaAcls(cfg: Config): Promise<void> {
  const kafka = createKafka(
    { ...cfg.kafka, sasl: { mechanism: 'scram-sha-512', ...kafkaBrokerLogin() } },
    'stack',
    { logLevel: logLevel.NOTHING, retry: { retries: 2 } },
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl: kafkaAcls(cfg) });
  } finally {
    await admin.disconnect();
  }
}

/** The users SCRAM credentials are created for when the Kafka storage is formatted. */
export function kafkaScramUsers(cfg: Config): Credential[] {
  const users = Object.values(cfg.kafka.users).filter((u): u is Credential => Boolean(u));
  return [kafkaBrokerLogin(), ...users];
}
