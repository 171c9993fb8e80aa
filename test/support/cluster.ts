/**
 * Node faults on the cluster topology (`npm run stack -- up --cluster`): kill -9 or stop one node of Kafka or
 * Cassandra, start it again, find the broker that leads the busiest partition, and measure how long the
 * pipeline made no progress while a node was gone.
 */
import assert from 'node:assert/strict';
import { config as processConfig } from '../../lib/config';
import { createCassandraClient } from '../../lib/clients/cassandra';
import { schemaAgreement, schemaVersions } from '../../lib/migrate/cassandra';
import { down, pidOf, up } from '../../lib/stack/stack';
import { isAlive } from '../../lib/stack/proc';
import { stackTopology } from '../../lib/stack/topology';
import { readStreamTotals } from '../../lib/stream/commit';
import type { FaultStack } from './faults';
import { sleep } from './faults';

/** Refuses to run anywhere but on a cluster: these tests kill servers. */
export function assertClusterStack(): void {
  const cfg = processConfig();
  assert.equal(stackTopology(), 'cluster', 'test:cluster needs `npm run stack -- up --cluster` (TRACKFLOW_STACK_TOPOLOGY=cluster)');
  assert.equal(cfg.cassandra.contactPoints.length, 3, 'three Cassandra contact points');
  assert.equal(cfg.kafka.brokers.length, 3, 'three Kafka brokers');
}

/** kill -9 of one node (`kafka:2`, `cassandra:3`); resolves once the process is gone. */
export async function killNode(id: string): Promise<void> {
  const pid = pidOf(processConfig(), id);
  assert.ok(pid, `${id} is running`);
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
}

export async function startNode(...ids: string[]): Promise<void> {
  await up(processConfig(), ids);
}

/** A clean stop (SIGTERM, then SIGKILL after the grace period). */
export async function stopNode(...ids: string[]): Promise<void> {
  await down(processConfig(), ids);
}

/** Broker ids are the cluster's node numbers. */
export function brokerNode(nodeId: number): string {
  return `kafka:${nodeId}`;
}

/** The broker leading the partition of the topic with the most records so far. */
export async function leaderOfBusiestPartition(s: FaultStack): Promise<number> {
  const admin = s.deps.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(s.config.kafka.topic);
    const busiest = offsets.reduce((a, b) => (Number(b.high) > Number(a.high) ? b : a));
    const meta = await admin.fetchTopicMetadata({ topics: [s.config.kafka.topic] });
    const leader = meta.topics[0]?.partitions.find((p) => p.partitionId === busiest.partition)?.leader;
    assert.ok(leader !== undefined && leader >= 1, `a leader for partition ${busiest.partition}`);
    return leader;
  } finally {
    await admin.disconnect();
  }
}

/** Replication of the scenario's topic, as the brokers report it. */
export async function topicReplication(s: FaultStack): Promise<{ replicas: number[]; minIsr: string | undefined }> {
  const admin = s.deps.kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [s.config.kafka.topic] });
    const res = await admin.describeConfigs({
      resources: [{ type: 2 /* TOPIC */, name: s.config.kafka.topic, configNames: ['min.insync.replicas'] }],
      includeSynonyms: false,
    });
    return {
      replicas: meta.topics[0]!.partitions.map((p) => p.replicas.length),
      minIsr: res.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue,
    };
  } finally {
    await admin.disconnect();
  }
}

/** Records published so far (the publisher's checkpoints in the lake, written after each acknowledged page). */
export async function publishedSoFar(s: FaultStack): Promise<number> {
  const rs = await s.deps.cassandra.execute(`SELECT published FROM ${s.config.cassandra.keyspace}.publish_progress`);
  return rs.rows.reduce((sum, r) => sum + Number(r['published'] ?? 0), 0);
}

export async function lakeRows(s: FaultStack): Promise<number> {
  const rs = await s.deps.cassandra.execute(`SELECT COUNT(*) AS n FROM ${s.config.cassandra.keyspace}.events_by_hour`);
  return Number(rs.first()?.['n'] ?? 0);
}

export async function consumedSoFar(s: FaultStack): Promise<number> {
  return (await readStreamTotals(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic)).consumed;
}

/**
 * Samples a progress counter every `periodMs` until stopped. The unavailability window is the longest time
 * between two samples that saw the counter grow (a probe that fails counts as no progress), from start() on.
 */
export function progressSampler(probe: () => Promise<number>, periodMs = 1000) {
  let running = true;
  let lastValue = -1;
  let lastGrowth = Date.now();
  let longest = 0;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      const v = await probe().catch(() => lastValue);
      samples += 1;
      const now = Date.now();
      if (v > lastValue) {
        if (lastValue >= 0) longest = Math.max(longest, now - lastGrowth);
        lastGrowth = now;
        lastValue = v;
      }
      await sleep(periodMs);
    }
  })();
  return {
    /** Stops sampling; returns the longest stall in ms. */
    async stop(): Promise<{ longestStallMs: number; samples: number; last: number }> {
      running = false;
      await loop;
      return { longestStallMs: longest, samples, last: lastValue };
    },
    value: () => lastValue,
  };
}

/**
 * Waits for the Cassandra nodes to agree on the schema and restarts the ones that still lag after a minute.
 * A node that was killed mid-ingest and restarted can fail every later schema merge in Cassandra 5.0.6
 * ("Unknown CF" in its MigrationStage, when a DROP makes it flush commit-log segments that name a table it
 * had replayed without knowing it); the documented remedy is a restart of that node (docs/deploy.md). The
 * nodes restarted are returned, and each scenario's setup runs this so one scenario cannot wedge the next.
 */
export async function settleCassandraSchema(): Promise<string[]> {
  const cfg = processConfig();
  const client = createCassandraClient(cfg.cassandra, { as: 'admin' });
  try {
    if (await schemaAgreement(client, 60_000)) return [];
    const versions = await schemaVersions(client);
    const count = new Map<string, number>();
    for (const v of versions.values()) count.set(v, (count.get(v) ?? 0) + 1);
    const majority = [...count].sort((a, b) => b[1] - a[1])[0]![0];
    const lagging = [...versions].filter(([, v]) => v !== majority).map(([addr]) => `cassandra:${addr.split('.').pop()}`);
    process.stderr.write(`cluster: schema disagreement after 60 s, restarting ${lagging.join(', ')}\n`);
    await down(cfg, lagging);
    await up(cfg, lagging);
    assert.ok(await schemaAgreement(client, 120_000), `the schema agrees after restarting ${lagging.join(', ')}`);
    return lagging;
  } finally {
    await client.shutdown();
  }
}
