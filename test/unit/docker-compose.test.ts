import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, REPO_ROOT, loadConfig } from '../../lib/config';
import { VERSIONS } from '../../lib/stack/versions';
import { fillSecrets } from '../../lib/dotenv';

interface ComposeService {
  image?: string;
  volumes?: string[];
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string | number>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = compose.services;

/** Compose interpolation as the Docker CLI does it, with the .env the first run makes from .env.example. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}/g, (_, key: string, fallback?: string) => env[key] ?? fallback ?? '');
}

function exampleEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const example = fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  for (const line of fillSecrets(example, example).text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1] as string] = m[2] as string;
  }
  return env;
}

test('docker-compose has the four servers on the native stack ports, each with a healthcheck', () => {
  const expected: Record<string, { image: RegExp; port: string }> = {
    cassandra: { image: /^cassandra:5\./, port: '127.0.0.1:9042:9042' },
    kafka: { image: /^apache\/kafka:4\./, port: '127.0.0.1:9092:9092' },
    mysql: { image: /^mysql:8\./, port: '127.0.0.1:3306:3306' },
    temporal: { image: /^temporalio\/temporal:/, port: '127.0.0.1:7233:7233' },
  };
  for (const [name, want] of Object.entries(expected)) {
    const svc = services[name];
    assert.ok(svc, `service ${name} missing`);
    assert.match(svc.image ?? '', want.image, `${name} image`);
    assert.ok(svc.ports?.includes(want.port), `${name} publishes ${want.port}`);
    assert.ok(svc.healthcheck?.test, `${name} has a healthcheck`);
  }
  assert.ok(services['temporal']?.ports?.includes('127.0.0.1:8233:8233'), 'Temporal Web UI published');
});

test('workers wait for healthy servers and a finished migration, and get a valid trackflow config', () => {
  const env = exampleEnv();
  for (const name of ['worker-pipeline', 'worker-stream']) {
    const svc = services[name];
    assert.ok(svc, `service ${name} missing`);
    assert.ok(svc.build, `${name} is built from the repository`);
    assert.ok(svc.healthcheck?.test, `${name} has a healthcheck`);
    const deps = svc.depends_on ?? {};
    for (const server of ['kafka', 'mysql', 'temporal']) {
      assert.equal(deps[server]?.condition, 'service_healthy', `${name} depends on healthy ${server}`);
    }
    assert.equal(deps['migrate']?.condition, 'service_completed_successfully');
    const workerEnv = Object.fromEntries(
      Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]),
    );
    const cfg = loadConfig(workerEnv);
    assert.equal(cfg.mysql.host, 'mysql');
    assert.deepEqual(cfg.kafka.brokers, ['kafka:29092']);
    assert.equal(cfg.temporal.address, 'temporal:7233');
  }
});

test('config validation rejects a missing password with a clear message', () => {
  assert.throws(() => loadConfig({}), (err: unknown) => err instanceof ConfigError && /TRACKFLOW_MYSQL_PASSWORD/.test(err.message));
});

test('compose pins the versions the native stack runs', () => {
  assert.equal(services['cassandra']?.image, `cassandra:${VERSIONS.cassandra}`);
  assert.equal(services['kafka']?.image, `apache/kafka:${VERSIONS.kafka}`);
  assert.equal(services['temporal']?.image, `temporalio/temporal:${VERSIONS.temporalCli}`);
  for (const [name, svc] of Object.entries(services)) {
    if (svc.image) assert.match(svc.image, /:v?\d+\.\d+(\.\d+)?$/, `${name} image has a pinned version`);
  }
});

test('worker metrics listen on every interface inside the container, so the published ports answer', () => {
  const env = { ...exampleEnv(), PWD: '/home/me/trackflow' };
  for (const [name, port] of [['worker-pipeline', '9464'], ['worker-stream', '9465']] as const) {
    const svc = services[name]!;
    assert.equal(svc.environment?.['TRACKFLOW_METRICS_HOST'], '0.0.0.0', `${name} metrics host`);
    assert.ok(svc.ports?.includes(`127.0.0.1:${port}:${port}`), `${name} publishes ${port}`);
    const cfg = loadConfig(Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)])));
    assert.equal(String(name === 'worker-pipeline' ? cfg.metrics.pipelinePort : cfg.metrics.streamPort), port, `${name} serves on ${port}`);
  }
});

test('the landing folder has the same absolute path on the host and in the pipeline worker', () => {
  const env = { ...exampleEnv(), PWD: '/home/me/trackflow' };
  const svc = services['worker-pipeline']!;
  const landing = interpolate(String(svc.environment?.['TRACKFLOW_LANDING_DIR']), env);
  assert.equal(landing, '/home/me/trackflow/landing', 'what `trackflow ingest --landing landing` and the README schedule send');
  const mounts = (svc.volumes ?? []).map((v) => interpolate(v, env).split(':'));
  assert.ok(mounts.some(([host, inside]) => host === landing && inside === landing), `mounted at ${landing}: ${JSON.stringify(mounts)}`);
});

test('Kafka keeps its log on the volume', () => {
  const kafka = services['kafka']!;
  const dir = String(kafka.environment?.['KAFKA_LOG_DIRS']);
  assert.ok((kafka.volumes ?? []).some((v) => v.endsWith(`:${dir}`)), `volume mounted at KAFKA_LOG_DIRS ${dir}`);
});

test('Prometheus and Grafana run next to the workers with the repository rules and dashboard', () => {
  for (const name of ['prometheus', 'grafana']) {
    for (const v of services[name]?.volumes ?? []) {
      const host = v.split(':')[0]!;
      if (host.startsWith('./')) assert.ok(fs.existsSync(path.join(REPO_ROOT, host)), `${name} mounts ${host}, which exists`);
    }
  }
  const prom = parse(fs.readFileSync(path.join(REPO_ROOT, 'ops', 'prometheus', 'prometheus.compose.yml'), 'utf8')) as {
    scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
  };
  const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
  assert.deepEqual(targets.sort(), ['worker-pipeline:9464', 'worker-stream:9465']);
  const dashboard = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'ops', 'grafana', 'dashboards', 'trackflow.json'), 'utf8')) as { panels: unknown[] };
  assert.ok(dashboard.panels.length >= 8);
});

/** docker-compose.yml with docker-compose.cluster.yml over it: maps merge key by key, the override's lists win. */
function mergeCompose(base: unknown, over: unknown): unknown {
  if (!over || typeof over !== 'object' || Array.isArray(over) || !base || typeof base !== 'object' || Array.isArray(base)) return over ?? base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = mergeCompose(out[k], v);
  return out;
}

const clusterFile = parse(fs.readFileSync(path.join(REPO_ROOT, 'docker-compose.cluster.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const cluster = (mergeCompose(compose, clusterFile) as typeof compose).services;

test('the cluster compose file runs three KRaft nodes in one quorum, with production replication', () => {
  const nodes = ['kafka', 'kafka-2', 'kafka-3'].map((n) => cluster[n]!);
  const voters = new Set(nodes.map((k) => String(k.environment?.['KAFKA_CONTROLLER_QUORUM_VOTERS'])));
  assert.deepEqual([...voters], ['1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093']);
  assert.equal(new Set(nodes.map((k) => String(k.environment?.['CLUSTER_ID']))).size, 1, 'one cluster id');
  assert.deepEqual(nodes.map((k) => Number(k.environment?.['KAFKA_NODE_ID'])), [1, 2, 3]);
  for (const [i, k] of nodes.entries()) {
    assert.equal(k.image, `apache/kafka:${VERSIONS.kafka}`);
    assert.ok(k.healthcheck?.test, `kafka node ${i + 1} has a healthcheck`);
    assert.equal(String(k.environment?.['KAFKA_DEFAULT_REPLICATION_FACTOR']), '3');
    assert.equal(String(k.environment?.['KAFKA_MIN_INSYNC_REPLICAS']), '2');
    assert.equal(String(k.environment?.['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR']), '3');
    assert.equal(k.environment?.['KAFKA_AUTHORIZER_CLASS_NAME'], 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'ACLs on every node');
    assert.equal(String(k.environment?.['KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND']), 'false');
    assert.ok(k.ports?.includes(`127.0.0.1:${9092 + 10 * i}:${9092 + 10 * i}`), `node ${i + 1} on the native cluster's port`);
    const dir = String(k.environment?.['KAFKA_LOG_DIRS']);
    assert.ok((k.volumes ?? []).some((v) => v.endsWith(`:${dir}`)), `node ${i + 1} keeps its log on a volume`);
  }
  assert.equal(new Set(nodes.flatMap((k) => k.volumes ?? [])).size, 3, 'a volume per node');
  for (const n of ['kafka-2', 'kafka-3']) assert.equal(cluster['kafka-setup']?.depends_on?.[n]?.condition, 'service_healthy');
});

test('the cluster compose file joins three Cassandra nodes one at a time before the roles are made', () => {
  assert.equal(cluster['cassandra-2']?.depends_on?.['cassandra']?.condition, 'service_healthy');
  assert.equal(cluster['cassandra-3']?.depends_on?.['cassandra-2']?.condition, 'service_healthy');
  assert.equal(cluster['cassandra-setup']?.depends_on?.['cassandra-3']?.condition, 'service_healthy');
  assert.match(String(cluster['cassandra-setup']?.environment?.['TRACKFLOW_CASSANDRA_AUTH_REPLICATION']), /NetworkTopologyStrategy.*'datacenter1': 3/);
  for (const n of ['cassandra', 'cassandra-2', 'cassandra-3']) {
    const c = cluster[n]!;
    assert.equal(c.image, `cassandra:${VERSIONS.cassandra}`);
    assert.ok(c.healthcheck?.test, `${n} has a healthcheck`);
    assert.equal(c.environment?.['CASSANDRA_SEEDS'], 'cassandra', `${n}: node 1 is the one seed`);
    assert.equal(c.environment?.['CASSANDRA_CLUSTER_NAME'], 'trackflow');
  }
});

test('on the cluster, migrations and workers reach every node with RF 3 and LOCAL_QUORUM', () => {
  const env = { ...exampleEnv(), PWD: '/home/me/trackflow' };
  for (const name of ['migrate', 'worker-pipeline', 'worker-stream']) {
    const svc = cluster[name]!;
    const cfg = loadConfig(Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)])));
    assert.deepEqual(cfg.cassandra.contactPoints, ['cassandra:9042', 'cassandra-2:9042', 'cassandra-3:9042'], name);
    assert.deepEqual(cfg.kafka.brokers, ['kafka:29092', 'kafka-2:29092', 'kafka-3:29092'], name);
    assert.deepEqual([cfg.cassandra.replicationFactor, cfg.cassandra.consistency, cfg.cassandra.serialConsistency], [3, 'LOCAL_QUORUM', 'LOCAL_SERIAL']);
    assert.deepEqual([cfg.kafka.replicationFactor, cfg.kafka.minInsyncReplicas], [3, 2]);
  }
  for (const name of ['worker-pipeline', 'worker-stream']) {
    for (const k of ['kafka-2', 'kafka-3']) assert.equal(cluster[name]?.depends_on?.[k]?.condition, 'service_healthy', `${name} waits for ${k}`);
    assert.equal(cluster[name]?.depends_on?.['migrate']?.condition, 'service_completed_successfully');
  }
});
