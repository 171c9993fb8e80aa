import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stackEnv, type Config } from '../config';
import { stateDir } from './paths';
import { javaBinary, provisionCassandra, provisionKafka, provisionMariadb, provisionTemporal } from './provision';
import { checkCassandra, checkKafka, checkKafkaNode, checkMysql, checkTemporal } from './health';
import type { ClusterNode, StackTopology } from './topology';
import { KAFKA_NODE_PORT_STEP, cassandraNodeHost, clusterNodes, kafkaNodePort, stackTopology } from './topology';
import { stackCerts } from './tls';
import type { StackTlsMode } from './tlsMode';
import { kafkaTlsPort, stackTlsMode } from './tlsMode';
import { cassandraSuperuser, kafkaBrokerLogin, kafkaScramUsers, quoteLiteral, setupCassandraCluster, setupCassandraRoles, setupKafkaAcls } from './security';
import { assertIdentifier } from '../config';
import { grantDatabase } from '../migrate/mysql';

export type ServiceName = 'cassandra' | 'kafka' | 'mariadb' | 'temporal';

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export interface Service {
  name: ServiceName;
  /** `name`, or `name:n` for node n of a cluster (what `up`, `down` and `logs` take). */
  id: string;
  node?: ClusterNode;
  /** The id of a service that must be healthy before this one starts (Cassandra bootstraps one node at a time). */
  startAfter?: string;
  host: string;
  port: number;
  /** What the health check does, for error messages. */
  check: string;
  startTimeoutMs: number;
  stopGraceMs: number;
  dataDir: string;
  logFile: string;
  pidFile: string;
  /** Downloads or installs the server (cached); returns nothing, throws with a reason. */
  provision(): void;
  /** Writes configuration and initialises storage; then returns how to launch. */
  prepare(): LaunchSpec;
  health(cfg: Config): Promise<string>;
  /** Answers before afterStart has run (e.g. before the app user exists); defaults to health. */
  ready?(cfg: Config): Promise<string>;
  /** One-off setup once healthy (users, grants); must be idempotent. */
  afterStart?(cfg: Config): Promise<void>;
}

function portOf(hostPort: string | undefined, fallback: number): number {
  const port = Number(hostPort?.split(':').pop());
  return Number.isInteger(port) && port > 0 ? port : fallback;
}


function paths(name: ServiceName, node?: ClusterNode) {
  const root = stateDir();
  const id = node ? `${name}-${node.n}` : name;
  return {
    id: node ? `${name}:${node.n}` : name,
    node,
    dataDir: path.join(root, id),
    logFile: path.join(root, 'logs', `${id}.log`),
    pidFile: path.join(root, 'run', `${id}.pid`),
  };
}

/** The JPMS flags Cassandra 5 needs on Java 17 (conf/jvm17-server.options of the distribution). */
const CASSANDRA_JAVA17_FLAGS = [
  '-XX:+UseG1GC',
  '-XX:+ParallelRefProcEnabled',
  '-XX:MaxTenuringThreshold=1',
  '-XX:G1HeapRegionSize=16m',
  '-XX:MaxGCPauseMillis=300',
  '-Djdk.attach.allowAttachSelf=true',
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.attach/sun.tools.attach',
  ].flatMap((m) => ['--add-exports', `${m}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'jdk.compiler/com.sun.tools.javac',
    'java.base/java.lang',
    'java.base/java.util',
  ].flatMap((m) => ['--add-opens', `${m}=ALL-UNNAMED`]),
  '-Dio.netty.tryReflectionSetAccessible=true',
  '-Dio.netty.allocator.useCacheForAllThreads=true',
  '-Dio.netty.allocator.maxOrder=11',
];

/** Which SCRAM users (and passwords, hashed) a Kafka storage was formatted with. */
export function scramFingerprint(users: Array<{ username: string; password: string }>): string {
  const h = crypto.createHash('sha256');
  for (const u of [...users].sort((a, b) => a.username.localeCompare(b.username))) h.update(`${u.username}\0${u.password}\0`);
  return h.digest('hex');
}

function readMarker(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

/** A `java @file` argument file (0600): what it holds stays out of /proc/<pid>/cmdline. */
function javaArgFile(file: string, args: string[]): string {
  const quoted = args.map((a) => `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join('\n');
  fs.writeFileSync(file, quoted + '\n', { mode: 0o600 });
  return file;
}

/**
 * The client listeners. `offered`: CLIENT is SASL_PLAINTEXT (also the inter-broker listener) and CLIENT_TLS is
 * SASL_SSL beside it on TRACKFLOW_STACK_KAFKA_TLS_PORT (default client port + 2). `required`: CLIENT alone, and
 * SASL_SSL; the broker's own inter-broker connections then verify the stack's CA like any client.
 */
function kafkaClientListeners(o: { port: number; controllerPort: number; tlsPort: number; mode: StackTlsMode; scramJaas: string }): string[] {
  const certs = stackCerts();
  const controller = `CONTROLLER://127.0.0.1:${o.controllerPort}`;
  const common = [
    'listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512',
    `listener.name.client.scram-sha-512.sasl.jaas.config=${o.scramJaas}`,
  ];
  if (o.mode === 'required') {
    return [
      `listeners=CLIENT://127.0.0.1:${o.port},${controller}`,
      `advertised.listeners=CLIENT://127.0.0.1:${o.port}`,
      'listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_SSL',
      ...common,
      'listener.name.client.ssl.keystore.type=PEM',
      `listener.name.client.ssl.keystore.location=${certs.keystore}`,
      'listener.name.client.ssl.truststore.type=PEM',
      `listener.name.client.ssl.truststore.location=${certs.ca}`,
    ];
  }
  const tlsPort = o.tlsPort;
  return [
    `listeners=CLIENT://127.0.0.1:${o.port},CLIENT_TLS://127.0.0.1:${tlsPort},${controller}`,
    `advertised.listeners=CLIENT://127.0.0.1:${o.port},CLIENT_TLS://127.0.0.1:${tlsPort}`,
    'listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,CLIENT_TLS:SASL_SSL',
    ...common,
    'listener.name.client_tls.sasl.enabled.mechanisms=SCRAM-SHA-512',
    'listener.name.client_tls.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.client_tls.ssl.keystore.type=PEM',
    `listener.name.client_tls.ssl.keystore.location=${certs.keystore}`,
  ];
}

/**
 * KRaft broker+controller. The client listener takes SASL/SCRAM-SHA-512 only; the controller listener is separate
 * and takes only the broker's own PLAIN login. The StandardAuthorizer denies whatever no ACL allows.
 */
/** The controller quorum: node 1 alone, or every node of the cluster (static voters, one quorum of three). */
function kafkaVoters(controllerPort: number, node: ClusterNode | undefined): string {
  if (!node) return `1@127.0.0.1:${controllerPort}`;
  const first = controllerPort - KAFKA_NODE_PORT_STEP * (node.n - 1);
  return Array.from({ length: node.count }, (_, i) => `${i + 1}@127.0.0.1:${first + KAFKA_NODE_PORT_STEP * i}`).join(',');
}

/**
 * Replication of the internal topics and the defaults of every topic: 1 on a single node; on a cluster what
 * production runs, so that an acks=all write is on two brokers and survives one broker's loss.
 */
function kafkaReplication(node: ClusterNode | undefined): string[] {
  const rf = node ? node.count : 1;
  const isr = node ? node.count - 1 : 1;
  return [
    `default.replication.factor=${rf}`,
    `min.insync.replicas=${isr}`,
    `offsets.topic.replication.factor=${rf}`,
    'offsets.topic.num.partitions=6',
    `transaction.state.log.replication.factor=${rf}`,
    `transaction.state.log.min.isr=${isr}`,
    'transaction.state.log.num.partitions=6',
    `share.coordinator.state.topic.replication.factor=${rf}`,
    `share.coordinator.state.topic.min.isr=${isr}`,
    // A replica that was out of the ISR never becomes leader: that would drop acknowledged writes.
    'unclean.leader.election.enable=false',
  ];
}

function kafkaServerProperties(o: {
  cfg: Config; port: number; controllerPort: number; tlsPort: number; logs: string; mode: StackTlsMode; node?: ClusterNode;
}): string {
  const broker = kafkaBrokerLogin();
  const jaasValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const scramJaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${jaasValue(broker.username)}" password="${jaasValue(broker.password)}";`;
  const plainJaas =
    `org.apache.kafka.common.security.plain.PlainLoginModule required username="${jaasValue(broker.username)}" ` +
    `password="${jaasValue(broker.password)}" user_${broker.username}="${jaasValue(broker.password)}";`;
  return [
    'process.roles=broker,controller',
    `node.id=${o.node?.n ?? 1}`,
    `controller.quorum.voters=${kafkaVoters(o.controllerPort, o.node)}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=CLIENT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    'sasl.mechanism.controller.protocol=PLAIN',
    ...kafkaClientListeners({ port: o.port, controllerPort: o.controllerPort, tlsPort: o.tlsPort, mode: o.mode, scramJaas }),
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${plainJaas}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${broker.username}`,
    'allow.everyone.if.no.acl.found=false',
    `log.dirs=${o.logs}`,
    `num.partitions=${o.cfg.kafka.partitions}`,
    ...kafkaReplication(o.node),
    'group.initial.rebalance.delay.ms=0',
    // Topics are created by trackflow with an explicit partition count, never by accident.
    'auto.create.topics.enable=false',
    'delete.topic.enable=true',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

/** Test databases (`trackflow_t_*`), which only the admin may create, then grant the app user on. */
export const MYSQL_TEST_DATABASE_PATTERN = 'trackflow\\_t\\_%';

/**
 * The warehouse users, from 127.0.0.1 only: the app user gets rows of exactly one database; the admin runs
 * migrations there and on the test databases, and may grant the app user on them. Users at '%' from older
 * stacks are dropped.
 */
export function mariadbUsersSql(c: Config): string {
  const db = assertIdentifier('TRACKFLOW_MYSQL_DATABASE', c.mysql.database);
  const app = assertIdentifier('TRACKFLOW_MYSQL_USER', c.mysql.user);
  const admin = assertIdentifier('TRACKFLOW_MYSQL_ADMIN_USER', c.mysql.adminUser);
  if (!c.mysql.adminPassword) throw new Error('TRACKFLOW_MYSQL_ADMIN_PASSWORD is not set');
  const at = (user: string) => `'${user}'@'127.0.0.1'`;
  return [
    `CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4`,
    `DROP USER IF EXISTS '${app}'@'%', '${admin}'@'%'`,
    `CREATE USER IF NOT EXISTS ${at(admin)} IDENTIFIED BY ${quoteLiteral(c.mysql.adminPassword)}`,
    `ALTER USER ${at(admin)} IDENTIFIED BY ${quoteLiteral(c.mysql.adminPassword)}`,
    `CREATE USER IF NOT EXISTS ${at(app)} IDENTIFIED BY ${quoteLiteral(c.mysql.password)}`,
    `ALTER USER ${at(app)} IDENTIFIED BY ${quoteLiteral(c.mysql.password)}`,
    `GRANT ALL PRIVILEGES ON ${grantDatabase(db)}.* TO ${at(admin)} WITH GRANT OPTION`,
    `GRANT ALL PRIVILEGES ON \`${MYSQL_TEST_DATABASE_PATTERN}\`.* TO ${at(admin)} WITH GRANT OPTION`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${grantDatabase(db)}.* TO ${at(app)}`,
    'FLUSH PRIVILEGES',
    '',
  ].join(';\n');
}

/**
 * The node's cassandra.yaml: password sign-in with roles, TLS offered or required; one local node, or node n of
 * a cluster on 127.0.0.n with smaller memtables and caches (three nodes share the machine).
 */
function cassandraYaml(o: { dir: string; cassandraPort: number; storagePort: number; tlsMode: StackTlsMode; node?: ClusterNode }): string {
  const { dir, cassandraPort, storagePort, tlsMode, node } = o;
  const host = cassandraNodeHost(node);
  return [
    'cluster_name: trackflow',
    'num_tokens: 16',
    `allocate_tokens_for_local_replication_factor: ${node ? node.count : 1}`,
    'partitioner: org.apache.cassandra.dht.Murmur3Partitioner',
    `data_file_directories: [${path.join(dir, 'data')}]`,
    `commitlog_directory: ${path.join(dir, 'commitlog')}`,
    `saved_caches_directory: ${path.join(dir, 'saved_caches')}`,
    `hints_directory: ${path.join(dir, 'hints')}`,
    `cdc_raw_directory: ${path.join(dir, 'cdc_raw')}`,
    'commitlog_sync: periodic',
    'commitlog_sync_period: 10000ms',
    'seed_provider:',
    '  - class_name: org.apache.cassandra.locator.SimpleSeedProvider',
    '    parameters:',
    // Node 1 is the seed: a seed never bootstraps, so the other nodes must not be seeds when they join.
    `      - seeds: "127.0.0.1:${storagePort}"`,
    `listen_address: ${host}`,
    `rpc_address: ${host}`,
    `storage_port: ${storagePort}`,
    `native_transport_port: ${cassandraPort}`,
    'start_native_transport: true',
    'endpoint_snitch: SimpleSnitch',
    // Every client signs in, and each role is limited to what it was granted (see afterStart).
    'authenticator: PasswordAuthenticator',
    'authorizer: CassandraAuthorizer',
    'role_manager: CassandraRoleManager',
    // TLS on the same port with PEM from stackCerts(): offered (clients choose), or required (`--tls`).
    'client_encryption_options:',
    '  enabled: true',
    `  optional: ${tlsMode === 'required' ? 'false' : 'true'}`,
    '  require_client_auth: false',
    '  ssl_context_factory:',
    '    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory',
    `  keystore: ${stackCerts().keystore}`,
    'concurrent_reads: 16',
    'concurrent_writes: 32',
    'memtable_allocation_type: offheap_objects',
    `memtable_heap_space: ${node ? 128 : 256}MiB`,
    `memtable_offheap_space: ${node ? 128 : 256}MiB`,
    `file_cache_size: ${node ? 64 : 128}MiB`,
    'disk_access_mode: mmap_index_only',
    'batch_size_warn_threshold: 64KiB',
    'batch_size_fail_threshold: 1024KiB',
    'unlogged_batch_across_partitions_warn_threshold: 100',
    'write_request_timeout: 10000ms',
    'read_request_timeout: 10000ms',
    'range_request_timeout: 20000ms',
    'auto_snapshot: false',
    '',
  ].join('\n');
}

/** cassandra.yaml and logback.xml in `dir`/conf, and the data directories they name; returns the conf directory. */
function writeCassandraConfig(dir: string, cassandraPort: number, tlsMode: StackTlsMode, node: ClusterNode | undefined): string {
  const conf = path.join(dir, 'conf');
  for (const sub of ['conf', 'data', 'commitlog', 'saved_caches', 'hints', 'cdc_raw']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  const storagePort = stackEnv().TRACKFLOW_STACK_CASSANDRA_STORAGE_PORT;
  fs.writeFileSync(path.join(conf, 'cassandra.yaml'), cassandraYaml({ dir, cassandraPort, storagePort, tlsMode, node }));
  fs.writeFileSync(
    path.join(conf, 'logback.xml'),
    `<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
`,
  );
  return conf;
}

/** As the stack's superuser: the release, and that the node finished joining; `pinnedTo` asks that node alone. */
async function checkCassandraNode(cfg: Config, pinnedTo: string | undefined): Promise<string> {
  const client = await cassandraSuperuser(cfg, pinnedTo);
  try {
    const row = (await client.execute('SELECT release_version, bootstrapped FROM system.local')).first();
    if (row?.['bootstrapped'] !== 'COMPLETED') throw new Error(`${pinnedTo ?? 'the node'} has not finished joining (${String(row?.['bootstrapped'])})`);
    if (!pinnedTo) return `Cassandra ${String(row['release_version'])}`;
    // `nodetool status`'s Up/Normal for this node: it answers CQL and has joined; its peers (system.peers) are
    // listed whether up or not, and each is checked as its own service.
    const peers = (await client.execute('SELECT peer FROM system.peers')).rowLength;
    return `Cassandra ${String(row['release_version'])} on ${pinnedTo}: joined (bootstrap COMPLETED), ${peers} peer(s) in its ring table`;
  } finally {
    await client.shutdown();
  }
}

/** The JVM command line of a Cassandra node; three cluster nodes share the machine, so each gets a smaller heap. */
function cassandraArgs(o: { dir: string; conf: string; lib: string; logFile: string; node?: ClusterNode }): string[] {
  const { dir, conf, lib, logFile, node } = o;
  const jamm = fs.readdirSync(lib).find((f) => /^jamm-.*\.jar$/.test(f));
  return [
    '-Xms512m',
    node ? '-Xmx640m' : '-Xmx1g',
    '-Xss256k',
    node ? '-XX:MaxDirectMemorySize=256m' : '-XX:MaxDirectMemorySize=512m',
    ...CASSANDRA_JAVA17_FLAGS,
    ...(jamm ? [`-javaagent:${path.join(lib, jamm)}`] : []),
    `-Dcassandra.config=file://${path.join(conf, 'cassandra.yaml')}`,
    `-Dlogback.configurationFile=${path.join(conf, 'logback.xml')}`,
    `-Dcassandra.storagedir=${dir}`,
    `-Dcassandra.logdir=${path.dirname(logFile)}`,
    // No jmx port property: JMX stays off (an unauthenticated JMX port would bypass every role).
    '-Dcassandra-foreground=yes',
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.superuser_setup_delay_ms=0',
    // Joins are serialized by `up` (startAfter), so the 30 s wait for ring changes to settle is not needed.
    ...(node ? ['-Dcassandra.ring_delay_ms=5000'] : []),
    '-cp',
    `${conf}:${lib}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
}

/**
 * Only a first start (a bootstrap) waits for the node before it: nodes that already joined start together,
 * since each needs a quorum of the others to check logins once system_auth has a replica per node.
 */
function cassandraStartAfter(node: ClusterNode | undefined): { startAfter?: string } {
  if (!node || node.n === 1 || fs.existsSync(path.join(paths('cassandra', node).dataDir, 'data', 'system'))) return {};
  return { startAfter: `cassandra:${node.n - 1}` };
}

function cassandraService(cfg: Config, tlsMode: StackTlsMode, node?: ClusterNode): Service {
  let cassandraLib = '';
  const cassandraPort = portOf(cfg.cassandra.contactPoints[0], 9042);
  const host = cassandraNodeHost(node);
  const pinned = node ? `${host}:${cassandraPort}` : undefined;
  return {
    name: 'cassandra',
    host,
    port: cassandraPort,
    check: `CQL query "SELECT release_version FROM system.local" on ${host}:${cassandraPort}`,
    startTimeoutMs: 240_000,
    stopGraceMs: 30_000,
    ...paths('cassandra', node),
    ...cassandraStartAfter(node),
    provision() {
      cassandraLib = provisionCassandra();
    },
    prepare() {
      const conf = writeCassandraConfig(this.dataDir, cassandraPort, tlsMode, node);
      return { command: javaBinary(), cwd: this.dataDir, args: cassandraArgs({ dir: this.dataDir, conf, lib: cassandraLib, logFile: this.logFile, node }) };
    },
    // A cluster node's health is its own (as the stack's superuser, that node alone, joined); the app role's
    // check is the single node's, and the app's clients reach a cluster through every node.
    health: (c) => (pinned ? checkCassandraNode(c, pinned) : checkCassandra(c)),
    // Before the roles exist only the superuser can sign in; the app role's check follows afterStart.
    ready: (c) => checkCassandraNode(c, pinned),
    // On a cluster the roles are set up once the last node has joined (replicated to all three then).
    afterStart: (c) => (!node ? setupCassandraRoles(c) : node.n === node.count ? setupCassandraCluster(c) : Promise.resolve()),
  };
}

/** The broker's log4j2 configuration: everything to stdout, which the stack appends to the log file. */
function writeKafkaLog4j(dir: string): string {
  const log4j = path.join(dir, 'log4j2.yaml');
  fs.writeFileSync(
    log4j,
    [
      'Configuration:',
      '  Appenders:',
      '    Console:',
      '      name: STDOUT',
      '      PatternLayout:',
      '        pattern: "[%d] %p %m (%c)%n"',
      '  Loggers:',
      '    Root:',
      '      level: INFO',
      '      AppenderRef:',
      '        - ref: STDOUT',
      '',
    ].join('\n'),
  );
  return log4j;
}

/**
 * Formats the KRaft storage in `logs` unless it was formatted with the configured SCRAM users, and records which
 * users it holds.
 */
function formatKafkaStorage(o: {
  cfg: Config; dir: string; logs: string; props: string; log4j: string; classpath: string; java: string; logFile: string; node?: ClusterNode;
}): void {
  const { cfg, dir, logs, props, log4j, classpath, java, logFile } = o;
  const marker = path.join(dir, 'scram-users');
  const users = scramFingerprint(kafkaScramUsers(cfg));
  if (fs.existsSync(path.join(logs, 'meta.properties')) && readMarker(marker) !== users) {
    // Storage formatted by a stack without these SCRAM users (an older, unauthenticated stack, or changed
    // passwords): SCRAM users can only be bootstrapped at format time, so the local broker starts afresh.
    process.stderr.write(`  kafka: storage lacks the configured SCRAM users; re-formatting ${logs} (topics start empty)\n`);
    fs.rmSync(logs, { recursive: true, force: true });
    fs.mkdirSync(logs, { recursive: true });
  }
  if (!fs.existsSync(path.join(logs, 'meta.properties'))) {
    // KRaft storage must be formatted once with a cluster id before the first start.
    // The SCRAM users are created here, in the metadata log; their passwords go through a 0600 argument file
    // (`java @file`), so they never appear in a process's command line. The id is base64url and may start
    // with '-', hence --cluster-id=ID rather than -t ID.
    // Every node of a cluster is formatted with the same cluster id (kept in the state directory).
    const clusterId = o.node ? kafkaClusterId() : crypto.randomBytes(16).toString('base64url');
    const scram = kafkaScramUsers(cfg).flatMap((u) => ['--add-scram', `SCRAM-SHA-512=[name=${u.username},password=${u.password}]`]);
    const argFile = javaArgFile(path.join(dir, 'format.args'), [
      '-cp', classpath, `-Dlog4j2.configurationFile=${log4j}`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props, ...scram,
    ]);
    let res;
    try {
      res = spawnSync(java, [`@${argFile}`], { encoding: 'utf8' });
    } finally {
      fs.rmSync(argFile, { force: true });
    }
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.appendFileSync(logFile, `==== storage format\n${res.stdout}${res.stderr}\n`);
    if (res.status !== 0) throw new Error(`kafka storage format failed (exit ${res.status}); see ${logFile}`);
    fs.writeFileSync(marker, users, { mode: 0o600 });
  }
}

/** The one Kafka cluster id every node of a cluster is formatted with. */
function kafkaClusterId(): string {
  const file = path.join(stateDir(), 'kafka-cluster-id');
  if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(16).toString('base64url'), { mode: 0o600, flag: 'wx' });
  return fs.readFileSync(file, 'utf8').trim();
}

/** A broker's health: the single node's, or on a cluster that this node answers and is registered. */
function kafkaHealth(c: Config, port: number, node: ClusterNode | undefined): Promise<string> {
  return node ? checkKafkaNode(c, `127.0.0.1:${port}`, node.n) : checkKafka(c);
}

function kafkaService(cfg: Config, tlsMode: StackTlsMode, node?: ClusterNode): Service {
  let kafkaLib = '';
  const basePort = portOf(cfg.kafka.brokers[0], 9092);
  const kafkaPort = kafkaNodePort(basePort, node);
  return {
    name: 'kafka',
    host: '127.0.0.1',
    port: kafkaPort,
    check: `Kafka metadata request (describeCluster) on 127.0.0.1:${kafkaPort}`,
    startTimeoutMs: 120_000,
    stopGraceMs: 30_000,
    ...paths('kafka', node),
    provision() {
      kafkaLib = provisionKafka();
    },
    prepare() {
      const dir = this.dataDir;
      const logs = path.join(dir, 'data');
      fs.mkdirSync(logs, { recursive: true });
      const controllerPort = kafkaNodePort(stackEnv().TRACKFLOW_STACK_KAFKA_CONTROLLER_PORT, node);
      const tlsPort = kafkaNodePort(kafkaTlsPort(basePort, tlsMode), node);
      const props = path.join(dir, 'server.properties');
      // Holds the broker's own passwords (JAAS): private to the stack's user.
      fs.writeFileSync(props, kafkaServerProperties({ cfg, port: kafkaPort, controllerPort, tlsPort, logs, mode: tlsMode, node }), { mode: 0o600 });
      fs.chmodSync(props, 0o600);
      const log4j = writeKafkaLog4j(dir);
      const classpath = `${kafkaLib}/*`;
      const java = javaBinary();
      formatKafkaStorage({ cfg, dir, logs, props, log4j, classpath, java, logFile: this.logFile, node });
      return {
        command: java,
        cwd: dir,
        args: [
          '-Xms256m',
          node ? '-Xmx384m' : '-Xmx512m',
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${log4j}`,
          `-Dkafka.logs.dir=${path.dirname(this.logFile)}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          props,
        ],
      };
    },
    health: (c) => kafkaHealth(c, kafkaPort, node),
    ready: (c) => kafkaHealth({ ...c, kafka: { ...c.kafka, sasl: { mechanism: 'scram-sha-512', ...kafkaBrokerLogin() } } }, kafkaPort, node),
    afterStart: (c) => setupKafkaAcls(c),
  };
}

/** A fresh data directory gets MariaDB's system tables (root signs in over the socket only). */
function installMariadbData(installDb: string, data: string, logFile: string): void {
  if (!fs.existsSync(path.join(data, 'mysql'))) {
    fs.mkdirSync(data, { recursive: true });
    const res = spawnSync(
      installDb,
      ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'],
      { encoding: 'utf8' },
    );
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.appendFileSync(logFile, `==== mariadb-install-db\n${res.stdout}${res.stderr}\n`);
    if (res.status !== 0) throw new Error(`mariadb-install-db failed (exit ${res.status}); see ${logFile}`);
  }
}

function mariadbArgs(o: { cfg: Config; dir: string; data: string; logFile: string; tlsMode: StackTlsMode }): string[] {
  const { cfg, dir, data, logFile, tlsMode } = o;
  return [
    '--no-defaults',
    `--datadir=${data}`,
    `--port=${cfg.mysql.port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(dir, 'mysqld.sock')}`,
    `--pid-file=${path.join(dir, 'mysqld.pid')}`,
    '--user=root',
    '--skip-name-resolve',
    // TLS offered with the stack's certificate; clients that ask for it verify CA and host name.
    `--ssl-ca=${stackCerts().ca}`,
    `--ssl-cert=${stackCerts().cert}`,
    `--ssl-key=${stackCerts().key}`,
    // `--tls`: TCP logins without TLS are refused (root's socket login, used for setup, still works).
    ...(tlsMode === 'required' ? ['--require-secure-transport=ON'] : []),
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    // The same strictness MySQL 8 applies by default, so SQL that passes here passes there.
    '--sql-mode=ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',
    '--default-time-zone=+00:00',
    '--innodb-buffer-pool-size=256M',
    '--innodb-log-file-size=256M',
    '--max-connections=300',
    '--log-error=' + logFile,
  ];
}

function mariadbService(cfg: Config, tlsMode: StackTlsMode): Service {
  let mariadb: ReturnType<typeof provisionMariadb> | undefined;
  return {
    name: 'mariadb',
    host: '127.0.0.1',
    port: cfg.mysql.port,
    check: `SELECT 1 as ${cfg.mysql.user} on 127.0.0.1:${cfg.mysql.port}`,
    startTimeoutMs: 60_000,
    stopGraceMs: 30_000,
    ...paths('mariadb'),
    provision() {
      mariadb = provisionMariadb();
    },
    prepare() {
      if (!mariadb) throw new Error('mariadb not provisioned');
      const dir = this.dataDir;
      const data = path.join(dir, 'data');
      installMariadbData(mariadb.installDb, data, this.logFile);
      return {
        command: mariadb.mariadbd,
        cwd: dir,
        args: mariadbArgs({ cfg, dir, data, logFile: this.logFile, tlsMode }),
      };
    },
    health: (c) => checkMysql(c),
    async ready() {
      if (!mariadb) throw new Error('mariadb not provisioned');
      const res = spawnSync(
        mariadb.client,
        ['--no-defaults', '-uroot', `--socket=${path.join(this.dataDir, 'mysqld.sock')}`, '-N', '-e', 'SELECT VERSION()'],
        { encoding: 'utf8', timeout: 5000 },
      );
      if (res.status !== 0) throw new Error(`root SELECT over the socket: ${(res.stderr || 'no answer').trim()}`);
      return `MariaDB ${res.stdout.trim()}`;
    },
    async afterStart(c) {
      if (!mariadb) throw new Error('mariadb not provisioned');
      // The SQL (passwords included) goes through stdin; root signs in over the socket, so no secret is in argv.
      const res = spawnSync(
        mariadb.client,
        ['--no-defaults', '-uroot', `--socket=${path.join(this.dataDir, 'mysqld.sock')}`],
        { encoding: 'utf8', input: mariadbUsersSql(c) },
      );
      if (res.status !== 0) throw new Error(`creating MariaDB users failed: ${res.stderr.trim()}`);
    },
  };
}

function temporalService(cfg: Config): Service {
  let temporalBin = '';
  const temporalPort = portOf(cfg.temporal.address, 7233);
  return {
    name: 'temporal',
    host: '127.0.0.1',
    port: temporalPort,
    check: `temporal operator cluster health on 127.0.0.1:${temporalPort}`,
    startTimeoutMs: 60_000,
    stopGraceMs: 15_000,
    ...paths('temporal'),
    provision() {
      temporalBin = provisionTemporal();
    },
    prepare() {
      fs.mkdirSync(this.dataDir, { recursive: true });
      return {
        command: temporalBin,
        cwd: this.dataDir,
        args: [
          'server',
          'start-dev',
          // Frontend, HTTP API and Web UI on loopback only: the dev server has no authentication of its own
          // (production: mTLS and an authorizer, docs/deploy.md).
          '--ip',
          '127.0.0.1',
          '--ui-ip',
          '127.0.0.1',
          '--port',
          String(temporalPort),
          '--ui-port',
          String(cfg.temporal.uiPort),
          '--db-filename',
          path.join(this.dataDir, 'temporal.db'),
          '--namespace',
          cfg.temporal.namespace,
          '--log-level',
          'warn',
        ],
      };
    },
    health: (c) => checkTemporal(c, temporalBin || undefined),
  };
}

/** Every service of the stack: one node of each on `single`, three Cassandra and three Kafka nodes on `cluster`. */
export function services(cfg: Config, tlsMode: StackTlsMode = stackTlsMode(), topology: StackTopology = stackTopology()): Service[] {
  const nodes = clusterNodes(topology);
  return [
    ...nodes.map((n) => cassandraService(cfg, tlsMode, n)),
    ...nodes.map((n) => kafkaService(cfg, tlsMode, n)),
    mariadbService(cfg, tlsMode),
    temporalService(cfg),
  ];
}
