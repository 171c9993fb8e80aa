import { ApplicationFailure, defineQuery, proxyActivities, setCurrentDetails, setHandler, upsertMemo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { WarehouseDiffers } from '../lib/domain/errors';
import { chunkHours } from '../lib/domain/hours';
import type { HourRangeInput } from './hourRange';
import { DEFAULT_CHUNK_HOURS, explicitHours } from './hourRange';
import { DISCOVER_ACTIVITY, VERIFY_ACTIVITY } from './options';

/** One hour's result, as the activity returns it (workflows see activities only as types). */
export type HourVerdict = Awaited<ReturnType<Activities['verifyHours']>>['results'][number];

const { verifyHours } = proxyActivities<Activities>(VERIFY_ACTIVITY);
const { listLakeHours, recordVerifyOutcome } = proxyActivities<Activities>(DISCOVER_ACTIVITY);

export interface VerifyWarehouseInput extends HourRangeInput {
  /** Fail the run (non-retryable WarehouseDiffers) when an hour differs: the schedule then pauses. */
  failOnDifference?: boolean;
}

export interface VerifyTotals {
  hours: number;
  doneHours: number;
  verified: number;
  differs: number;
  notSettled: number;
  /** Differing rows over all hours. */
  differences: number;
  inFlightEvents: number;
  lastVerifiedHour?: string;
  /** Hours whose chunk a retried activity had already done before the worker died. */
  resumedHours: number;
}

export interface VerifyProgress extends VerifyTotals {
  phase: 'listing' | 'verifying' | 'done';
  from?: string;
  to?: string;
  currentChunk?: { from: string; to: string };
  /** The first differing hours, for the Web UI and the CLI. */
  differingHours: string[];
}

export interface VerifyWarehouseResult extends VerifyTotals {
  from?: string;
  to?: string;
  /** Hours that differ or are not settled, with their differences (at most MAX_REPORTED_HOURS of them). */
  unverified: HourVerdict[];
}

export const verifyProgressQuery = defineQuery<VerifyProgress>('progress');

/** Hours kept in full in the result; counts stay exact beyond. */
export const MAX_REPORTED_HOURS = 200;

function emptyTotals(hours: number): VerifyTotals {
  return { hours, doneHours: 0, verified: 0, differs: 0, notSettled: 0, differences: 0, inFlightEvents: 0, resumedHours: 0 };
}

function addVerdict(p: VerifyProgress, unverified: HourVerdict[], v: HourVerdict): void {
  p.doneHours += 1;
  if (v.status === 'verified') {
    p.verified += 1;
    if (!p.lastVerifiedHour || v.hour > p.lastVerifiedHour) p.lastVerifiedHour = v.hour;
    return;
  }
  if (v.status === 'differs') {
    p.differs += 1;
    p.differences += v.differenceCount;
    if (p.differingHours.length < 50) p.differingHours.push(v.hour);
  } else {
    p.notSettled += 1;
    p.inFlightEvents += v.inFlight.notPublished + v.inFlight.notConsumed + v.inFlight.companyPending;
  }
  if (unverified.length < MAX_REPORTED_HOURS) unverified.push(v);
}

function details(p: VerifyProgress): string {
  return `verified ${p.verified}, differs ${p.differs} (${p.differences} rows), not settled ${p.notSettled} of ${p.hours} hours (${p.doneHours} done)`;
}

/**
 * Recomputes the warehouse rows of a range of hours from the lake and compares them with `events`, one activity
 * per chunk of hours (each heartbeats its finished hours, so a retry after a dead worker resumes the chunk).
 */
export async function verifyWarehouse(input: VerifyWarehouseInput = {}): Promise<VerifyWarehouseResult> {
  const progress: VerifyProgress = { ...emptyTotals(0), phase: 'listing', differingHours: [] };
  setHandler(verifyProgressQuery, () => progress);
  const hours = explicitHours(input, { requireRange: false }) ?? (await listLakeHours({ reindex: input.reindex }));
  progress.hours = hours.length;
  progress.from = hours[0];
  progress.to = hours[hours.length - 1];
  progress.phase = 'verifying';
  upsertMemo({ from: progress.from, to: progress.to, hours: hours.length });
  const unverified: HourVerdict[] = [];
  for (const chunk of chunkHours(hours, input.chunkHours ?? DEFAULT_CHUNK_HOURS)) {
    progress.currentChunk = { from: chunk[0]!, to: chunk[chunk.length - 1]! };
    setCurrentDetails(details(progress));
    const r = await verifyHours({ hours: chunk });
    progress.resumedHours += r.resumedFrom;
    for (const v of r.results) addVerdict(progress, unverified, v);
    upsertMemo({ progress: details(progress), differingHours: progress.differingHours.slice(0, 10) });
  }
  progress.phase = 'done';
  progress.currentChunk = undefined;
  setCurrentDetails(details(progress));
  await recordVerifyOutcome({ differences: progress.differences, differingHours: progress.differs, lastVerifiedHour: progress.lastVerifiedHour });
  const { phase: _phase, currentChunk: _chunk, differingHours, ...totals } = progress;
  if (input.failOnDifference && progress.differs > 0) {
    throw ApplicationFailure.nonRetryable(
      `${progress.differences} warehouse rows differ from the lake in ${progress.differs} hours (${differingHours.slice(0, 5).join(', ')}${progress.differs > 5 ? ', ...' : ''}); repair with trackflow rebuild`,
      WarehouseDiffers.code,
      { ...totals, unverified: unverified.filter((v) => v.status === 'differs').slice(0, 20) },
    );
  }
  return { ...totals, unverified };
}
