import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, setEnv, stackEnv } from '../config';
import { stateDir } from './paths';
import { applyDotEnvSettings } from './tlsMode';

/**
 * The local stack's shape. `single` (the default): one node of each server, replication factor 1. `cluster`
 * (`npm run stack -- up --cluster`, or TRACKFLOW_STACK_TOPOLOGY=cluster): three Kafka KRaft nodes (each broker
 * and controller) and three Cassandra nodes, with production's replication: topics RF 3 and
 * min.insync.replicas 2, the lake keyspace NetworkTopologyStrategy RF 3 at LOCAL_QUORUM. MariaDB and Temporal
 * stay single (docs/deploy.md says what production runs instead).
 */
export type StackTopology = 'single' | 'cluster';

const TOPOLOGIES: readonly StackTopology[] = ['single', 'cluster'];

/** Nodes of each replicated server in the cluster topology. */
export const CLUSTER_NODES = 3;

/** Kafka node n (1-based) listens on the single-node ports + KAFKA_NODE_PORT_STEP·(n-1): client, controller, TLS. */
export const KAFKA_NODE_PORT_STEP = 10;

export interface ClusterNode {
  /** 1-based node number: Kafka's node.id, and the last octet of a Cassandra node's loopback address. */
  n: number;
  count: number;
}

export function topologyFile(): string {
  return path.join(stateDir(), 'topology');
}

function parseTopology(source: string, value: string): StackTopology {
  const v = value.trim();
  if (!TOPOLOGIES.includes(v as StackTopology)) throw new Error(`${source} must be one of ${TOPOLOGIES.join(', ')} (got "${v.slice(0, 20)}")`);
  return v as StackTopology;
}

export function persistedTopology(): StackTopology | undefined {
  const file = topologyFile();
  return fs.existsSync(file) ? parseTopology(file, fs.readFileSync(file, 'utf8')) : undefined;
}

/** TRACKFLOW_STACK_TOPOLOGY if set, else the topology the stack was last brought up in, else `single`. */
export function stackTopology(env?: Record<string, string | undefined>): StackTopology {
  return stackEnv(env).TRACKFLOW_STACK_TOPOLOGY ?? persistedTopology() ?? 'single';
}

export function persistTopology(topology: StackTopology): void {
  fs.mkdirSync(stateDir(), { recursive: true, mode: 0o700 });
  fs.writeFileSync(topologyFile(), `${topology}\n`, { mode: 0o600 });
}

/** The nodes of a replicated server: one unnumbered node on `single`, nodes 1..3 on `cluster`. */
export function clusterNodes(topology: StackTopology): Array<ClusterNode | undefined> {
  if (topology === 'single') return [undefined];
  return Array.from({ length: CLUSTER_NODES }, (_, i) => ({ n: i + 1, count: CLUSTER_NODES }));
}

/** Cassandra node n binds 127.0.0.n (Linux routes all of 127/8 to lo), so every node keeps the same ports. */
export function cassandraNodeHost(node: ClusterNode | undefined): string {
  return node ? `127.0.0.${node.n}` : '127.0.0.1';
}

export function kafkaNodePort(basePort: number, node: ClusterNode | undefined): number {
  return node ? basePort + KAFKA_NODE_PORT_STEP * (node.n - 1) : basePort;
}

/**
 * The `.env` lines that point the app's clients at every node of `topology`, with the replication and
 * consistency it runs with. `cassandraPort` and `kafkaPort` are node 1's (the single-node stack's) ports.
 */
export function clientTopologySettings(topology: StackTopology, ports: { cassandra: number; kafka: number }): Record<string, string | undefined> {
  const nodes = clusterNodes(topology);
  const cluster = topology === 'cluster';
  return {
    TRACKFLOW_STACK_TOPOLOGY: topology,
    TRACKFLOW_CASSANDRA_CONTACT_POINTS: nodes.map((n) => `${cassandraNodeHost(n)}:${ports.cassandra}`).join(','),
    TRACKFLOW_KAFKA_BROKERS: nodes.map((n) => `127.0.0.1:${kafkaNodePort(ports.kafka, n)}`).join(','),
    TRACKFLOW_CASSANDRA_REPLICATION_FACTOR: cluster ? String(CLUSTER_NODES) : '1',
    TRACKFLOW_CASSANDRA_CONSISTENCY: cluster ? 'LOCAL_QUORUM' : 'ONE',
    TRACKFLOW_CASSANDRA_SERIAL_CONSISTENCY: cluster ? 'LOCAL_SERIAL' : 'SERIAL',
    TRACKFLOW_KAFKA_REPLICATION_FACTOR: cluster ? String(CLUSTER_NODES) : undefined,
    TRACKFLOW_KAFKA_MIN_INSYNC_REPLICAS: cluster ? String(CLUSTER_NODES - 1) : undefined,
  };
}

/** Rewrites `.env` (0600, via a private temp file) and process.env with the client settings of `topology`. */
export function switchClientTopology(
  topology: StackTopology,
  ports: { cassandra: number; kafka: number },
  target = path.join(REPO_ROOT, '.env'),
): void {
  const settings = clientTopologySettings(topology, ports);
  const text = applyDotEnvSettings(fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '', settings);
  const tmp = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, target);
  for (const [key, value] of Object.entries(settings)) setEnv(key, value);
  process.stderr.write(`trackflow: .env clients switched to the ${topology} topology\n`);
}

/**
 * Persists the topology `up` runs (so `status`, `down` and a later `up` agree), switches `.env`'s clients to its
 * nodes when they point elsewhere, and says whether it did (the caller then reloads the configuration). A
 * running stack keeps its topology: changing it needs a `down` first (`running` tells whether any is up).
 */
export function applyTopology(
  topology: StackTopology,
  current: { contactPoints: string[]; brokers: string[]; running: (t: StackTopology) => boolean },
): boolean {
  const previous = persistedTopology() ?? 'single';
  if (topology !== previous && current.running(previous)) {
    throw new Error(`the stack is running as ${previous}; run \`npm run stack -- down\` before bringing it up as ${topology}`);
  }
  setEnv('TRACKFLOW_STACK_TOPOLOGY', topology);
  persistTopology(topology);
  const port = (hostPort: string | undefined, fallback: number) => Number(hostPort?.split(':').pop()) || fallback;
  const ports = { cassandra: port(current.contactPoints[0], 9042), kafka: port(current.brokers[0], 9092) };
  const wanted = clientTopologySettings(topology, ports);
  if (wanted['TRACKFLOW_CASSANDRA_CONTACT_POINTS'] === current.contactPoints.join(',') && wanted['TRACKFLOW_KAFKA_BROKERS'] === current.brokers.join(',')) {
    return false;
  }
  switchClientTopology(topology, ports);
  return true;
}
