import { defineQuery, proxyActivities, setCurrentDetails, setHandler, upsertMemo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { chunkHours } from '../lib/domain/hours';
import type { HourRangeInput } from './hourRange';
import { DEFAULT_CHUNK_HOURS, explicitHours } from './hourRange';
import { DISCOVER_ACTIVITY, VERIFY_ACTIVITY } from './options';

/** One hour's result, as the activity returns it (workflows see activities only as types). */
export type RebuildHourResult = Awaited<ReturnType<Activities['rebuildHours']>>['results'][number];

const { rebuildHours } = proxyActivities<Activities>(VERIFY_ACTIVITY);
const { listLakeHours } = proxyActivities<Activities>(DISCOVER_ACTIVITY);

export interface RebuildWarehouseInput extends HourRangeInput {
  /** Only compute and report what would change; write nothing. */
  dryRun?: boolean;
}

export interface RebuildTotals {
  hours: number;
  doneHours: number;
  /** Hours whose rows were (or, dry-run, would be) replaced. */
  changedHours: number;
  /** Rows that differed from the recomputed ones before the rebuild. */
  differences: number;
  counted: number;
  ledgerAdded: number;
  inFlight: number;
  rowsBefore: number;
  rowsAfter: number;
  retries: number;
  resumedHours: number;
}

export interface RebuildProgress extends RebuildTotals {
  phase: 'listing' | 'rebuilding' | 'done';
  dryRun: boolean;
  from?: string;
  to?: string;
  currentChunk?: { from: string; to: string };
}

export interface RebuildWarehouseResult extends RebuildTotals {
  dryRun: boolean;
  from?: string;
  to?: string;
  /** The hours that changed (or would), with their differences before (at most MAX_REPORTED_HOURS). */
  changed: RebuildHourResult[];
}

export const rebuildProgressQuery = defineQuery<RebuildProgress>('progress');

const MAX_REPORTED_HOURS = 200;

function addResult(p: RebuildProgress, changed: RebuildHourResult[], r: RebuildHourResult): void {
  p.doneHours += 1;
  p.counted += r.counted;
  p.ledgerAdded += r.ledgerAdded;
  p.inFlight += r.inFlight;
  p.rowsBefore += r.rowsBefore;
  p.rowsAfter += r.rowsAfter;
  p.retries += r.retries;
  if (!r.changed) return;
  p.changedHours += 1;
  p.differences += r.differenceCount;
  if (changed.length < MAX_REPORTED_HOURS) changed.push(r);
}

function details(p: RebuildProgress): string {
  return `${p.dryRun ? 'dry run: ' : ''}${p.doneHours} of ${p.hours} hours rebuilt, ${p.changedHours} changed (${p.differences} rows)`;
}

/**
 * Replaces the warehouse rows of a range of hours with the rows recomputed from the lake, one transaction per
 * hour and one activity per chunk of hours, while the stream keeps running (docs/stream.md). Rebuilding an hour
 * twice gives the same rows, so a chunk redone after a dead worker is harmless; its heartbeat skips the hours
 * already done.
 */
export async function rebuildWarehouse(input: RebuildWarehouseInput): Promise<RebuildWarehouseResult> {
  const progress: RebuildProgress = {
    phase: 'listing', dryRun: input.dryRun === true, hours: 0, doneHours: 0, changedHours: 0, differences: 0,
    counted: 0, ledgerAdded: 0, inFlight: 0, rowsBefore: 0, rowsAfter: 0, retries: 0, resumedHours: 0,
  };
  setHandler(rebuildProgressQuery, () => progress);
  const hours = explicitHours(input, { requireRange: true }) ?? (await listLakeHours({ reindex: input.reindex }));
  progress.hours = hours.length;
  progress.from = hours[0];
  progress.to = hours[hours.length - 1];
  progress.phase = 'rebuilding';
  upsertMemo({ from: progress.from, to: progress.to, hours: hours.length, dryRun: progress.dryRun });
  const changed: RebuildHourResult[] = [];
  for (const chunk of chunkHours(hours, input.chunkHours ?? DEFAULT_CHUNK_HOURS)) {
    progress.currentChunk = { from: chunk[0]!, to: chunk[chunk.length - 1]! };
    setCurrentDetails(details(progress));
    const r = await rebuildHours({ hours: chunk, dryRun: input.dryRun });
    progress.resumedHours += r.resumedFrom;
    for (const h of r.results) addResult(progress, changed, h);
    upsertMemo({ progress: details(progress) });
  }
  progress.phase = 'done';
  progress.currentChunk = undefined;
  setCurrentDetails(details(progress));
  const { phase: _phase, currentChunk: _chunk, ...totals } = progress;
  return { ...totals, changed };
}
