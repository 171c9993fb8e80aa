import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, test } from 'node:test';
import { ingestFileCore, type IngestProgress } from '../../lib/ingest/ingest';
import type { ServiceName } from '../../lib/stack/services';
import { readStreamTotals } from '../../lib/stream/commit';
import { runConsumeLease } from '../../lib/stream/consumer';
import {
  assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, openFaultStack, restartService, sleep, slowCommits,
  waitFor, withServiceDown, writeDataset, type FaultStack,
} from '../support/faults';
import { expectedFrom } from '../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('services');
});
afterEach(async () => {
  await s?.close();
});
// Restarting a service from this process leaves a handle to it behind; do not let it keep the file running.
after(() => {
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
});

/** Streams a published dataset slowly (small, slow transactions) and breaks `service` once batches flow. */
async function streamThrough(scenario: string, seed: number, outage: () => Promise<unknown>): Promise<void> {
  const { tracking, jobs } = await writeDataset(s, 15_000, seed);
  await loadJobs(s, jobs);
  await ingestAndPublishDirect(s, [tracking]);
  const { topic, consumerGroup: group } = s.config.kafka;
  const lease = runConsumeLease(
    { ...s.deps, mysql: slowCommits(s.deps.mysql, 150) },
    { leaseMs: 240_000, stopWhenCaughtUp: true, chunkSize: 100 },
  );
  lease.catch(() => undefined);
  await waitFor('batches flowing', 60_000, async () => (await readStreamTotals(s.deps.mysql, group, topic)).batches >= 5);
  await outage();
  const summary = await lease.catch(async (err: unknown) => {
    // A lease that ends while the outage lasts throws a retryable error; Temporal would run the next one.
    assert.equal((err as Error).name, 'StreamUnavailableError');
    return consumeUntilCaughtUp(s);
  });
  assert.equal(summary.endReason, 'caught-up');
  await consumeUntilCaughtUp(s);
  await assertExact(s, scenario, expectedFrom([tracking], jobs));
}

const restart = (name: ServiceName) => () => restartService(name);

void test('3a. Kafka broker restart while streaming: exact', async () => {
  await streamThrough('3a kafka restart while streaming', 31, restart('kafka'));
});

void test('3b. Kafka broker down for 40 s while streaming: the consumer retries ride it out, exact', async () => {
  await streamThrough('3b kafka down 40s while streaming', 32, () => withServiceDown('kafka', 40_000));
});

void test('4. MariaDB restart while streaming: exact', async () => {
  await streamThrough('4 mariadb restart while streaming', 41, restart('mariadb'));
});

void test('5. Cassandra restart during ingest: the ingest resumes from its last checkpoint, exact', async () => {
  const { tracking, jobs } = await writeDataset(s, 60_000, 51);
  await loadJobs(s, jobs);
  const ks = s.config.cassandra.keyspace;
  let last: IngestProgress | undefined;
  let attempts = 0;
  let restarted: Promise<void> | undefined;
  // What the activity does with its heartbeat details: retry from the last checkpoint until it works.
  for (;;) {
    attempts += 1;
    try {
      await ingestFileCore({ cassandra: s.deps.cassandra, keyspace: ks }, { path: tracking }, {
        resumeFrom: last,
        onProgress: (p) => {
          last = p;
          if (!restarted && p.rowsRead >= 10_000) restarted = restartService('cassandra');
        },
      });
      if (restarted) break;
    } catch (err) {
      if (attempts > 30) throw err;
      await sleep(2000);
    }
  }
  await restarted;
  assert.ok(restarted, 'Cassandra was restarted during the ingest');
  await ingestAndPublishDirect(s, []);
  await consumeUntilCaughtUp(s);
  await assertExact(s, '5 cassandra restart during ingest', expectedFrom([tracking], jobs));
});
