import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertMemo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { IngestSummary, PublishSummary } from '../activities/types';
import { DISCOVER_ACTIVITY, INGEST_ACTIVITY, PUBLISH_ACTIVITY } from './options';

const { discoverFiles } = proxyActivities<Activities>(DISCOVER_ACTIVITY);
const { ingestFile } = proxyActivities<Activities>(INGEST_ACTIVITY);
const { publishPending } = proxyActivities<Activities>(PUBLISH_ACTIVITY);

export interface IngestAndPublishInput {
  /** Scan this directory for new exports (already-ingested content is skipped by the activity). */
  landingDir?: string;
  /** Ingest exactly these files (used instead of, or in addition to, landingDir). */
  paths?: string[];
  /** Publish the lake's pending events to Kafka afterwards; default true. */
  publish?: boolean;
  /** Cap per publishPending call; the workflow loops while the activity reports `more`. */
  maxEventsPerPublish?: number;
}

export interface FileResult {
  path: string;
  status: 'ingested' | 'duplicate-file' | 'failed';
  summary?: IngestSummary;
  error?: string;
}

export interface PublishTotals extends PublishSummary {
  /** How many publishPending activities ran. */
  rounds: number;
}

export interface IngestAndPublishResult {
  files: FileResult[];
  /** Files discovery skipped because their content was already ingested. */
  skipped: string[];
  publish: PublishTotals;
}

export interface IngestProgress {
  phase: 'discovering' | 'ingesting' | 'publishing' | 'done';
  total: number;
  done: number;
  current?: string;
  files: FileResult[];
  publish: PublishTotals;
}

export const ingestProgressQuery = defineQuery<IngestProgress>('progress');

/** Memo values are limited in size; the Web UI only needs enough to recognise the run. */
const MEMO_MAX_FILES = 50;

function emptyPublish(): PublishTotals {
  return { published: 0, batches: 0, quarantined: 0, ingestBatches: [], more: false, durationMs: 0, rounds: 0 };
}

function describeFailure(err: ActivityFailure): string {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) return cause.type ? `${cause.type}: ${cause.message}` : cause.message;
  return cause?.message ?? err.message;
}

/** Replaces the daily Airflow DAG: land new exports in Cassandra, then hand their events to Kafka. */
export async function ingestAndPublish(input: IngestAndPublishInput): Promise<IngestAndPublishResult> {
  const progress: IngestProgress = { phase: 'discovering', total: 0, done: 0, files: [], publish: emptyPublish() };
  setHandler(ingestProgressQuery, () => progress);

  const paths: string[] = [...(input.paths ?? [])];
  const skipped: string[] = [];
  if (input.landingDir) {
    const found = await discoverFiles({ landingDir: input.landingDir });
    for (const f of found.newFiles) if (!paths.includes(f.path)) paths.push(f.path);
    skipped.push(...found.alreadyIngested.map((f) => f.path));
    upsertMemo({
      landingDir: input.landingDir,
      files: paths.slice(0, MEMO_MAX_FILES),
      fileCount: paths.length,
      skippedCount: skipped.length,
    });
  }

  progress.phase = 'ingesting';
  progress.total = paths.length;
  for (const path of paths) {
    progress.current = path;
    try {
      const summary = await ingestFile({ path });
      progress.files.push({ path, status: summary.status, summary });
    } catch (err) {
      // Cancelling the workflow must stop it, not be recorded as one bad file.
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      const error = describeFailure(err);
      log.warn('File failed to ingest; continuing with the others', { path, error });
      progress.files.push({ path, status: 'failed', error });
    }
    progress.done += 1;
  }
  progress.current = undefined;

  if (input.publish !== false) {
    progress.phase = 'publishing';
    const totals = progress.publish;
    do {
      const round = await publishPending(input.maxEventsPerPublish ? { maxEvents: input.maxEventsPerPublish } : {});
      totals.rounds += 1;
      totals.published += round.published;
      totals.batches += round.batches;
      totals.quarantined += round.quarantined;
      totals.durationMs += round.durationMs;
      for (const b of round.ingestBatches) if (!totals.ingestBatches.includes(b)) totals.ingestBatches.push(b);
      totals.more = round.more;
    } while (totals.more);
  }

  progress.phase = 'done';
  return { files: progress.files, skipped, publish: progress.publish };
}
