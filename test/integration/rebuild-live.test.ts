import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pool } from 'mysql2/promise';
import { createMysqlAdminPool } from '../../lib/clients/mysql';
import { generateJobs, generateTracking } from '../../lib/domain/generator';
import { ingestFileCore } from '../../lib/ingest/ingest';
import { listLakeHours } from '../../lib/lake/hours';
import { publishPendingCore } from '../../lib/publish/publisher';
import { reconcile } from '../../lib/reconcile/gather';
import { readTopicLag } from '../../lib/reconcile/lag';
import { readStoredOffsets } from '../../lib/stream/commit';
import { runConsumeLease } from '../../lib/stream/consumer';
import { TopicLagReader } from '../../lib/verify/lag';
import type { RebuildHourResult } from '../../lib/verify/rebuild';
import { rebuildHour } from '../../lib/verify/rebuild';
import type { VerifyDeps } from '../../lib/verify/verify';
import { verifyHour } from '../../lib/verify/verify';
import { openTestStack } from '../support/env';
import type { TestStack } from '../support/env';
import { consumeUntilCaughtUp, exportLines, ingestAndPublishDirect, loadJobs, sleep, slowCommits, waitFor } from '../support/faults';
import { expectedExport, expectedFrom } from '../support/reference';

const DAY_MS = Date.parse('2022-07-01T00:00:00Z');

function writeExport(dir: string, name: string, events: number, seed: number): string {
  const file = path.join(dir, name);
  const gen = generateTracking({ events, seed, days: 1, startMs: DAY_MS, badRate: 0.005 });
  fs.writeFileSync(file, [...gen.lines].map((l) => l.toString()).join('\n') + '\n');
  return file;
}

function verifyDeps(s: TestStack): VerifyDeps {
  const c = s.config;
  return { cassandra: s.deps.cassandra, kafka: s.deps.kafka, mysql: s.deps.mysql, keyspace: c.cassandra.keyspace, topic: c.kafka.topic, consumerGroup: c.kafka.consumerGroup };
}

/** Deterministic shuffle, so each round rebuilds the hours in a different order. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function caughtUp(s: TestStack): Promise<boolean> {
  const stored = await readStoredOffsets(s.deps.mysql, s.config.kafka.consumerGroup, s.config.kafka.topic);
  return (await readTopicLag(s.deps.kafka, s.config.kafka.topic, stored)).lag === 0;
}

/** Publishes the lake's pending events a few hundred at a time, with pauses, so they trickle into the stream. */
async function publishSlowly(s: TestStack, pauseMs: number): Promise<void> {
  const c = s.config;
  for (;;) {
    const r = await publishPendingCore(
      { cassandra: s.deps.cassandra, kafka: s.deps.kafka, keyspace: c.cassandra.keyspace, topic: c.kafka.topic, partitions: c.kafka.partitions },
      { maxEvents: 250 },
    );
    if (!r.more) return;
    await sleep(pauseMs);
  }
}

const ROUNDS = [
  { name: 'back to back, forced rewrites', pauseMs: 0, publishPauseMs: 150, slowCommitMs: 0, force: true, holdMs: 0 },
  { name: 'stream commits held 25 ms, rebuild transactions held 30 ms', pauseMs: 10, publishPauseMs: 200, slowCommitMs: 25, force: true, holdMs: 30 },
  { name: 'sparse rebuilds of corrupted rows', pauseMs: 60, publishPauseMs: 100, slowCommitMs: 5, force: false, holdMs: 5 },
];

void describe('rebuild while a live stream writes the same hours', { timeout: 300_000 }, () => {
  let s: TestStack;
  let admin: Pool;
  let dir: string;
  let jobs: string;
  const files: string[] = [];
  before(async () => {
    s = await openTestStack('rebuildlive');
    admin = createMysqlAdminPool(s.config.mysql, { database: s.config.mysql.database });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-rebuild-live-'));
    jobs = path.join(dir, 'job.csv');
    fs.writeFileSync(jobs, [...generateJobs(21)].join('\n') + '\n');
    await loadJobs(s, jobs);
    files.push(writeExport(dir, 'base.csv', 3000, 21));
    await ingestAndPublishDirect(s, files);
    await consumeUntilCaughtUp(s);
  });
  after(async () => {
    await admin?.end();
    await s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  ROUNDS.forEach((round, i) => {
    void test(`round ${i + 1} (${round.name}): the warehouse ends equal to the reference and reconcile passes`, async () => {
      const file = writeExport(dir, `live-${i}.csv`, 2500, 31 + i);
      files.push(file);
      await ingestFileCore({ cassandra: s.deps.cassandra, keyspace: s.config.cassandra.keyspace }, { path: file });
      // Rows the rebuild has to repair while the stream adds to them.
      await admin.query('UPDATE events SET clicks = clicks + 1, conversion = conversion + 1 WHERE MOD(job_id, 7) = ?', [i]);

      const stop = new AbortController();
      const streamDeps = round.slowCommitMs ? { ...s.deps, mysql: slowCommits(s.deps.mysql, round.slowCommitMs) } : s.deps;
      const lease = runConsumeLease(streamDeps, { leaseMs: 240_000, signal: stop.signal, chunkSize: 200 });
      let publishing = true;
      const publisher = publishSlowly(s, round.publishPauseMs).finally(() => (publishing = false));
      const hours = await listLakeHours(s.deps.cassandra, s.config.cassandra.keyspace);
      const lag = new TopicLagReader(s.deps.kafka, s.config.kafka.topic);
      const results: RebuildHourResult[] = [];
      const falseDifferences: string[] = [];
      const repaired = new Set<string>();
      try {
        // Rebuild passes only while events are still being published into these hours: nothing after the last
        // one repairs what it did. Meanwhile verify must never see a difference (it reads one consistent snapshot).
        const verifier = (async () => {
          const vlag = new TopicLagReader(s.deps.kafka, s.config.kafka.topic);
          try {
            for (let k = 0; publishing; k++) {
              // Only hours repaired since the corruption: a difference there is a count lost or doubled.
              const done = [...repaired];
              if (!done.length) {
                await sleep(20);
                continue;
              }
              const v = await verifyHour(verifyDeps(s), vlag, done[(k * 5) % done.length]!);
              if (v.status === 'differs') falseDifferences.push(`${v.hour}: ${JSON.stringify(v.differences.slice(0, 2))}`);
            }
          } finally {
            await vlag.close();
          }
        })();
        for (let pass = 0; publishing || pass === 0; pass++) {
          for (const h of shuffled(hours, 7 * i + pass)) {
            results.push(await rebuildHour(verifyDeps(s), lag, h, { force: round.force, holdMs: round.holdMs }));
            repaired.add(h);
            if (round.pauseMs) await sleep(round.pauseMs);
          }
        }
        await publisher;
        await verifier;
        await waitFor('the stream to catch up', 120_000, () => caughtUp(s));
      } finally {
        stop.abort();
        await lease;
        await lag.close();
      }
      assert.deepEqual(falseDifferences.slice(0, 3), [], 'verify saw a difference in a rebuilt hour while the stream and rebuild ran');
      const concurrent = results.filter((r) => r.written && r.inFlight > 0).length;
      assert.ok(concurrent > 0, 'some rebuilds wrote an hour while its events were still in flight');
      assert.ok(results.some((r) => r.differenceCount > 0), 'some rebuild repaired a corrupted row');

      assert.deepEqual(await exportLines(s), expectedExport(expectedFrom(files, jobs)));
      const r = await reconcile({ cassandra: s.deps.cassandra, kafka: s.deps.kafka, mysql: s.deps.mysql, config: s.config });
      assert.deepEqual(r.checks.filter((c) => c.status !== 'ok'), [], JSON.stringify(r.checks));
      const verifyLag = new TopicLagReader(s.deps.kafka, s.config.kafka.topic);
      try {
        for (const h of hours) assert.equal((await verifyHour(verifyDeps(s), verifyLag, h)).status, 'verified', h);
      } finally {
        await verifyLag.close();
      }
    });
  });
});
