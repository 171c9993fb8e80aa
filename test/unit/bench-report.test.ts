import assert from 'node:assert/strict';
import test from 'node:test';
import type { OrchestratedResult } from '../../bench/orchestrated';
import type { PipelineResult } from '../../bench/pipeline';
import type { Limits } from '../../bench/report';
import { checkTargets, flatnessPair, summaryTable } from '../../bench/report';
import type { StageUsage } from '../../bench/resources';

// Pure reporting logic of `npm run bench`: which figure each target is checked against, and PASS/MISS.

const usage = (seconds: number, rssPeakMb: number): StageUsage => ({
  seconds, cpuUserSeconds: seconds / 2, cpuSystemSeconds: 0, cpuSeconds: seconds / 2, cpuCores: 0.5,
  rssStartMb: 100, rssPeakMb, rssEndMb: rssPeakMb, heapPeakMb: 50,
});

function run(events: number, rates: { ingest: number; publish: number; consume: number }, rss: number): PipelineResult {
  const stage = (perSecond: number) => ({ items: events, perSecond, usage: usage(events / perSecond, rss) });
  return {
    events, seed: 1, fileBytes: events * 300,
    ingest: { ...stage(rates.ingest), written: events, rejected: 0, alreadyPresent: 0 },
    publish: { ...stage(rates.publish), quarantined: 0 },
    consume: { ...stage(rates.consume), counted: events, filtered: 0, unattributed: 0, deadLettered: 0, endReason: 'caught-up' },
    endToEnd: { seconds: 100, eventsPerSecond: events / 100, cpuSeconds: 50, rssPeakMb: rss },
    message: { sampled: 100, avgValueBytes: 223, avgKeyBytes: 1, avgHeaderBytes: 0, avgRecordBytes: 224 },
  };
}

const limits: Limits = {
  cassandra: { tool: 'cassandra-stress', version: '4.0-alpha2', command: 'x', ops: 1, opsPerSecond: 20_000, rowsPerSecond: 20_000, latencyMeanMs: 1, latencyP99Ms: 2 } as never,
  consumerPerformance: { tool: 'org.apache.kafka.tools.ConsumerPerformance', command: 'x', messages: 1, mb: 1, messagesPerSecond: 100_000, fetchMessagesPerSecond: 120_000 } as never,
};

const byTarget = (checks: ReturnType<typeof checkTargets>, prefix: string) => {
  const c = checks.find((x) => x.target.startsWith(prefix));
  assert.ok(c, `no target starting with ${prefix}`);
  return c;
};

void test('targets: rates and ratios against the same run\'s platform limits', () => {
  const main = run(1_000_000, { ingest: 12_000, publish: 45_000, consume: 60_000 }, 220);
  const checks = checkTargets(main, undefined, undefined, limits);
  assert.equal(byTarget(checks, 'CSV->Cassandra >= 15,000').pass, false);
  // 12,000 / 20,000 = 60% of stress
  assert.equal(byTarget(checks, 'CSV->Cassandra >= 50%').measured, '60%');
  assert.equal(byTarget(checks, 'CSV->Cassandra >= 50%').pass, true);
  assert.equal(byTarget(checks, 'Cassandra->Kafka').pass, true);
  assert.equal(byTarget(checks, 'Kafka->MySQL >= 40,000').pass, true);
  // 60,000 / 100,000 = 60%
  assert.equal(byTarget(checks, 'Kafka->MySQL >= 50%').measured, '60%');
  assert.equal(byTarget(checks, 'p99').pass, null, 'no latency run: not judged');
  assert.equal(byTarget(checks, 'RSS flat').pass, null, 'no second size: not judged');
});

void test('flatness compares the smaller run with the larger whichever was passed first', () => {
  const n = run(1_000_000, { ingest: 1, publish: 1, consume: 1 }, 200);
  const n4 = run(4_000_000, { ingest: 1, publish: 1, consume: 1 }, 260);
  assert.deepEqual(flatnessPair(n, n4)?.map((r) => r.events), [1_000_000, 4_000_000]);
  assert.deepEqual(flatnessPair(n4, n)?.map((r) => r.events), [1_000_000, 4_000_000]);
  const flat = byTarget(checkTargets(n, n4, undefined, limits), 'RSS flat');
  assert.equal(flat.measured, '200 -> 260 MB (x1.3)');
  assert.equal(flat.pass, false, '1.3 is above the 1.25 allowed');
  assert.equal(byTarget(checkTargets(n, run(4_000_000, { ingest: 1, publish: 1, consume: 1 }, 240), undefined, limits), 'RSS flat').pass, true);
});

void test('the RSS target takes the real workers into account, and the summary shows them', () => {
  const main = run(1_000_000, { ingest: 12_000, publish: 45_000, consume: 60_000 }, 220);
  const e2e: OrchestratedResult = {
    events: 1_000_000, ingestAndPublishSeconds: 100, seconds: 101, eventsPerSecond: 9_891, consumed: 999_000, counted: 900_000,
    workers: {
      pipeline: { pid: 1, cpuSeconds: 80, rssStartMb: 210, rssPeakMb: 310, rssEndMb: 250 },
      stream: { pid: 2, cpuSeconds: 18, rssStartMb: 150, rssPeakMb: 200, rssEndMb: 190 },
    },
  };
  const checks = checkTargets(main, undefined, undefined, limits, e2e);
  const rss = byTarget(checks, 'worker RSS');
  assert.equal(rss.measured, '310 MB');
  assert.equal(rss.pass, false);
  const text = summaryTable(main, undefined, undefined, limits, checks, e2e);
  assert.match(text, /end to end, Temporal workers \| 999,000/);
  assert.match(text, /pipeline worker CPU 80 s, peak RSS 310 MB/);
});
