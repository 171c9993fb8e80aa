import { currentActivityContext } from '../lib/temporal/activityContext';
import type { ActivityDeps } from './deps';
import { listLakeHours, reindexLakeHours } from '../lib/lake/hours';
import { hourStartMs } from '../lib/domain/hours';
import type { HourVerdict } from '../lib/verify/judge';
import { TopicLagReader } from '../lib/verify/lag';
import type { RebuildHourResult } from '../lib/verify/rebuild';
import { rebuildHour } from '../lib/verify/rebuild';
import type { VerifyDeps } from '../lib/verify/verify';
import { verifyHour } from '../lib/verify/verify';
import { mapHoursInOrder } from '../lib/verify/run';
import { faultForAttempt } from '../lib/faults';

export type { HourVerdict } from '../lib/verify/judge';
export type { RebuildHourResult } from '../lib/verify/rebuild';
export type { Difference } from '../lib/verify/recompute';

export interface ListLakeHoursInput {
  /** Fill the hour index from the lake's partition keys first (a lake ingested before the index existed). */
  reindex?: boolean;
}

export interface HoursChunkInput {
  hours: string[];
}

export interface RebuildChunkInput extends HoursChunkInput {
  dryRun?: boolean;
}

/** Heartbeat details of a chunk: the results of the hours done so far, so a retry resumes after them. */
export interface ChunkProgress<R> {
  hours: string[];
  done: R[];
}

export interface ChunkResult<R> {
  results: R[];
  /** Hours a previous attempt had finished (0 for a first attempt). */
  resumedFrom: number;
}

export interface VerifyOutcome {
  differences: number;
  differingHours: number;
  /** The latest hour of the run that verified, if any. */
  lastVerifiedHour?: string;
}

function verifyDeps(deps: ActivityDeps): VerifyDeps {
  return {
    cassandra: deps.cassandra,
    kafka: deps.kafka,
    mysql: deps.mysql,
    keyspace: deps.config.cassandra.keyspace,
    topic: deps.config.kafka.topic,
    consumerGroup: deps.config.kafka.consumerGroup,
  };
}

/** Heartbeat details from a previous attempt of the same chunk, if any. */
function resumeFrom<R extends { hour: string }>(details: unknown, hours: string[]): R[] {
  const d = details as ChunkProgress<R> | undefined;
  if (!d || !Array.isArray(d.hours) || !Array.isArray(d.done) || d.hours.join() !== hours.join()) return [];
  return d.done.filter((r, i) => r?.hour === hours[i]);
}

/** Hours of one chunk in flight at once: verify only reads; rebuild transactions queue on the offset locks anyway. */
export const VERIFY_CONCURRENCY = 4;
export const REBUILD_CONCURRENCY = 2;

/**
 * Runs `each` over the chunk's hours (`concurrency` at a time), heartbeating the results of the finished prefix
 * (and during long reads), and skipping the hours a previous attempt already heartbeated.
 */
export async function runChunk<R extends { hour: string }>(
  deps: ActivityDeps,
  hours: string[],
  each: (d: VerifyDeps, lag: TopicLagReader, hour: string, keepAlive: () => void) => Promise<R>,
  /** afterHour runs once an hour is done and heartbeated (the fault hook's point). */
  opts: { concurrency?: number; afterHour?: (doneThisAttempt: number, hour: string) => void } = {},
): Promise<ChunkResult<R>> {
  const ctx = currentActivityContext();
  const resumed = resumeFrom<R>(ctx?.info.heartbeatDetails, hours);
  const d = verifyDeps(deps);
  const lag = new TopicLagReader(deps.kafka, d.topic);
  let done: R[] = resumed;
  const progress = (): ChunkProgress<R> => ({ hours, done });
  const keepAlive = () => ctx?.heartbeat(progress());
  try {
    const rest = await mapHoursInOrder(
      hours.slice(resumed.length),
      opts.concurrency ?? 1,
      (hour) => each(d, lag, hour, keepAlive),
      (prefix) => {
        const before = done.length - resumed.length;
        done = [...resumed, ...prefix];
        ctx?.heartbeat(progress());
        for (let n = before + 1; n <= prefix.length; n++) opts.afterHour?.(n, prefix[n - 1]!.hour);
      },
    );
    return { results: [...resumed, ...rest], resumedFrom: resumed.length };
  } finally {
    await lag.close();
  }
}

export function createVerifyActivities(deps: ActivityDeps) {
  return {
    /** Every hour the lake holds, from its hour index (no scan of the events). */
    async listLakeHours(input: ListLakeHoursInput = {}): Promise<string[]> {
      const ks = deps.config.cassandra.keyspace;
      if (input.reindex) await reindexLakeHours(deps.cassandra, ks, () => currentActivityContext()?.heartbeat());
      return listLakeHours(deps.cassandra, ks);
    },

    async verifyHours(input: HoursChunkInput): Promise<ChunkResult<HourVerdict>> {
      return runChunk(deps, input.hours, (d, lag, hour, keepAlive) => verifyHour(d, lag, hour, keepAlive), { concurrency: VERIFY_CONCURRENCY });
    },

    async rebuildHours(input: RebuildChunkInput): Promise<ChunkResult<RebuildHourResult>> {
      const ctx = currentActivityContext();
      const fault = faultForAttempt(deps.faults, ctx?.info.attempt ?? 1);
      return runChunk(
        deps,
        input.hours,
        (d, lag, hour, keepAlive) => rebuildHour(d, lag, hour, { dryRun: input.dryRun, keepAlive }),
        {
          concurrency: REBUILD_CONCURRENCY,
          afterHour: fault && ((_n, hour) => fault({ stage: 'rebuild', point: 'hour-rebuilt', hour })),
        },
      );
    },

    /** The alertable outcome of a verify run, on the worker's /metrics. */
    async recordVerifyOutcome(input: VerifyOutcome): Promise<void> {
      deps.metrics.set('trackflow_verify_differences', 'Warehouse rows that differ from the lake in the last verify run', input.differences);
      deps.metrics.set('trackflow_verify_differing_hours', 'Hours that differ from the lake in the last verify run', input.differingHours);
      const ms = input.lastVerifiedHour ? hourStartMs(input.lastVerifiedHour) : undefined;
      if (ms !== undefined) {
        deps.metrics.set('trackflow_verify_last_verified_hour_seconds', 'Start (Unix seconds) of the latest hour verify found equal to the lake', ms / 1000);
      }
    },
  };
}
