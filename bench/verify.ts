import { openTestStack } from '../test/support/env';
import { ingestFileCore } from '../lib/ingest/ingest';
import { loadJobsCore } from '../lib/ingest/jobCatalogueLoader';
import { listLakeHours } from '../lib/lake/hours';
import { publishPendingCore } from '../lib/publish/publisher';
import { runConsumeLease } from '../lib/stream/consumer';
import type { HourVerdict } from '../lib/verify/judge';
import { TopicLagReader } from '../lib/verify/lag';
import type { RebuildHourResult } from '../lib/verify/rebuild';
import { rebuildHour } from '../lib/verify/rebuild';
import type { VerifyDeps } from '../lib/verify/verify';
import { verifyHour } from '../lib/verify/verify';
import { mapHoursInOrder } from '../lib/verify/run';
import type { Dataset, StageResult } from './pipeline';
import type { Log } from './platform';
import { measureStage } from './resources';

export interface VerifyBenchResult {
  events: number;
  hours: number;
  /** Events in the lake (what verify and rebuild read). */
  lakeEvents: number;
  verify: StageResult & { verified: number; differs: number; notSettled: number };
  /** Every row of the warehouse deleted first, so every hour is recomputed and rewritten. */
  rebuild: StageResult & { changedHours: number; rowsWritten: number };
  /** Verify again after the rebuild: every hour must verify. */
  verifyAfterRebuild: { verified: number; hours: number };
}

const rate = (items: number, seconds: number): number => Math.round(items / seconds);

/** The activities' concurrency (activities/verify.ts): lib/ does not import activities. */
const VERIFY_CONCURRENCY = 4;
const REBUILD_CONCURRENCY = 2;

async function eachHour<R>(deps: VerifyDeps, hours: string[], concurrency: number, fn: (lag: TopicLagReader, hour: string) => Promise<R>): Promise<R[]> {
  const lag = new TopicLagReader(deps.kafka, deps.topic);
  try {
    return await mapHoursInOrder(hours, concurrency, (h) => fn(lag, h));
  } finally {
    await lag.close();
  }
}

/**
 * Loads the dataset through the pipeline (untimed), then times verify of every lake hour, and rebuild of every
 * hour after the warehouse rows were all deleted, in lake events per second. Same code the activities run.
 */
export async function runVerifyBench(data: Dataset, opts: { log: Log }): Promise<VerifyBenchResult> {
  const { log } = opts;
  const stack = await openTestStack('benchverify');
  const { deps, config: cfg } = stack;
  const vd: VerifyDeps = {
    cassandra: deps.cassandra, kafka: deps.kafka, mysql: deps.mysql,
    keyspace: cfg.cassandra.keyspace, topic: cfg.kafka.topic, consumerGroup: cfg.kafka.consumerGroup,
  };
  try {
    log(`verify bench N=${data.events}: loading the pipeline (untimed)`);
    await loadJobsCore(deps.mysql, { path: data.jobFile });
    await ingestFileCore({ cassandra: deps.cassandra, keyspace: cfg.cassandra.keyspace }, { path: data.trackingFile });
    const pub = { cassandra: deps.cassandra, kafka: deps.kafka, keyspace: cfg.cassandra.keyspace, topic: cfg.kafka.topic, partitions: cfg.kafka.partitions };
    while ((await publishPendingCore(pub)).more);
    await runConsumeLease(deps, { leaseMs: 60 * 60_000, stopWhenCaughtUp: true });
    const hours = await listLakeHours(deps.cassandra, cfg.cassandra.keyspace);

    let done = 0;
    const v = await measureStage(`verify ${hours.length} hours`, () => eachHour(vd, hours, VERIFY_CONCURRENCY, (lag, h) => verifyHour(vd, lag, h).finally(() => done++)), {
      log, progress: () => `${done} hours`,
    });
    const verdicts: HourVerdict[] = v.result;
    const lakeEvents = verdicts.reduce((n, x) => n + x.lakeEvents, 0);
    const count = (s: HourVerdict['status']) => verdicts.filter((x) => x.status === s).length;
    log(`  verify: ${lakeEvents} lake events, ${hours.length} hours in ${v.usage.seconds.toFixed(1)} s = ${rate(lakeEvents, v.usage.seconds)} events/s`);

    await deps.mysql.query('DELETE FROM events');
    done = 0;
    const r = await measureStage(`rebuild ${hours.length} hours`, () => eachHour(vd, hours, REBUILD_CONCURRENCY, (lag, h) => rebuildHour(vd, lag, h).finally(() => done++)), {
      log, progress: () => `${done} hours`,
    });
    const rebuilt: RebuildHourResult[] = r.result;
    log(`  rebuild: ${lakeEvents} lake events, ${hours.length} hours in ${r.usage.seconds.toFixed(1)} s = ${rate(lakeEvents, r.usage.seconds)} events/s`);
    const after = await eachHour(vd, hours, VERIFY_CONCURRENCY, (lag, h) => verifyHour(vd, lag, h));
    return {
      events: data.events,
      hours: hours.length,
      lakeEvents,
      verify: { items: lakeEvents, perSecond: rate(lakeEvents, v.usage.seconds), usage: v.usage, verified: count('verified'), differs: count('differs'), notSettled: count('not-settled') },
      rebuild: {
        items: lakeEvents,
        perSecond: rate(lakeEvents, r.usage.seconds),
        usage: r.usage,
        changedHours: rebuilt.filter((x) => x.written).length,
        rowsWritten: rebuilt.reduce((n, x) => n + x.rowsAfter, 0),
      },
      verifyAfterRebuild: { verified: after.filter((x) => x.status === 'verified').length, hours: hours.length },
    };
  } finally {
    await stack.close();
  }
}

export function verifySummary(r: VerifyBenchResult): string {
  return [
    `verify and rebuild (N=${r.events}, ${r.lakeEvents} lake events, ${r.hours} hours):`,
    `  verify   ${r.verify.perSecond} lake events/s (${r.verify.usage.seconds} s, ${r.verify.verified} verified, ${r.verify.differs} differ, ${r.verify.notSettled} not settled; rss peak ${r.verify.usage.rssPeakMb} MB)`,
    `  rebuild  ${r.rebuild.perSecond} lake events/s (${r.rebuild.usage.seconds} s, ${r.rebuild.changedHours} hours and ${r.rebuild.rowsWritten} rows written; rss peak ${r.rebuild.usage.rssPeakMb} MB)`,
    `  after the rebuild ${r.verifyAfterRebuild.verified} of ${r.verifyAfterRebuild.hours} hours verify`,
  ].join('\n');
}
