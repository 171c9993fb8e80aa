import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DiscoveredFile, IngestSummary, LoadJobsSummary, PublishSummary, SkippedFile } from '../activities/types';
import { DISCOVER_ACTIVITY, FAILED_FILES_ERROR, INGEST_ACTIVITY, LOAD_JOBS_ACTIVITY, PUBLISH_ACTIVITY } from './options';

const { discoverFiles } = proxyActivities<Activities>(DISCOVER_ACTIVITY);
const { ingestFile } = proxyActivities<Activities>(INGEST_ACTIVITY);
const { publishPending } = proxyActivities<Activities>(PUBLISH_ACTIVITY);
const { loadJobs } = proxyActivities<Activities>(LOAD_JOBS_ACTIVITY);

/** patched() markers: job exports in landing are loaded first; a failed file fails the run once the others are done. */
export const PATCH_LOAD_JOB_EXPORTS = 'load-job-exports-from-landing';
export const PATCH_FAIL_ON_FAILED_FILES = 'fail-run-on-failed-files';
/** patched() marker: up to maxConcurrentFiles ingest activities at once, spread over the pipeline workers. */
export const PATCH_CONCURRENT_FILES = 'ingest-concurrent-files';
/** patched() marker: up to maxConcurrentPublishes publishPending activities at once, each over its share of batches. */
export const PATCH_CONCURRENT_PUBLISH = 'publish-concurrent-shares';

export interface IngestAndPublishInput {
  /** Scan this directory for new exports (already-ingested content is skipped by the activity). */
  landingDir?: string;
  /** Ingest exactly these files (used instead of, or in addition to, landingDir). */
  paths?: string[];
  /** Publish the lake's pending events to Kafka afterwards; default true. */
  publish?: boolean;
  /** Cap per publishPending call; the workflow loops while the activity reports `more`. */
  maxEventsPerPublish?: number;
  /** Files ingested at once (default 1); the CLI sends TRACKFLOW_INGEST_MAX_CONCURRENT_FILES. */
  maxConcurrentFiles?: number;
  /** publishPending activities at once (default 1), each over the batches of its share. */
  maxConcurrentPublishes?: number;
}

export interface FileResult {
  path: string;
  status: 'ingested' | 'duplicate-file' | 'failed';
  summary?: IngestSummary;
  error?: string;
}

export interface JobFileResult {
  path: string;
  status: 'loaded' | 'failed';
  summary?: LoadJobsSummary;
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
  /** Job exports found in the landing directory, loaded before the tracking files. */
  jobs?: JobFileResult[];
  /** Landing files that are neither a tracking nor a job export. */
  ignored?: SkippedFile[];
  publish: PublishTotals;
}

export interface IngestProgress {
  phase: 'discovering' | 'ingesting' | 'publishing' | 'done';
  total: number;
  done: number;
  current?: string;
  /** Files being ingested right now (several with maxConcurrentFiles > 1). */
  inFlight?: string[];
  files: FileResult[];
  jobs?: JobFileResult[];
  ignored?: SkippedFile[];
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

async function loadJobExports(files: DiscoveredFile[], progress: IngestProgress): Promise<JobFileResult[]> {
  const results: JobFileResult[] = [];
  progress.jobs = results;
  for (const f of files) {
    progress.current = f.path;
    try {
      results.push({ path: f.path, status: 'loaded', summary: await loadJobs({ path: f.path }) });
    } catch (err) {
      if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
      const error = describeFailure(err);
      log.warn('Job export failed to load; continuing with the tracking files', { path: f.path, error });
      results.push({ path: f.path, status: 'failed', error });
    }
  }
  progress.current = undefined;
  return results;
}

/** One file's ingest; a failed file is a result, so the others go on. */
async function ingestOne(path: string): Promise<FileResult> {
  try {
    const summary = await ingestFile({ path });
    return { path, status: summary.status, summary };
  } catch (err) {
    // Cancelling the workflow must stop it, not be recorded as one bad file.
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    const error = describeFailure(err);
    log.warn('File failed to ingest; continuing with the others', { path, error });
    return { path, status: 'failed', error };
  }
}

async function ingestFiles(paths: string[], progress: IngestProgress): Promise<void> {
  progress.phase = 'ingesting';
  progress.total = paths.length;
  for (const path of paths) {
    progress.current = path;
    progress.files.push(await ingestOne(path));
    progress.done += 1;
  }
  progress.current = undefined;
}

/**
 * Up to `lanes` files at once: each lane takes the next file when its last one is done. Progress lists the
 * files in flight; the results keep the order of `paths`, whatever order they finish in.
 */
async function ingestFilesConcurrently(paths: string[], progress: IngestProgress, lanes: number): Promise<void> {
  progress.phase = 'ingesting';
  progress.total = paths.length;
  const inFlight: string[] = [];
  progress.inFlight = inFlight;
  const results: Array<FileResult | undefined> = paths.map(() => undefined);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      const path = paths[i] as string;
      inFlight.push(path);
      progress.current = path;
      const r = await ingestOne(path);
      inFlight.splice(inFlight.indexOf(path), 1);
      results[i] = r;
      progress.files.push(r);
      progress.done += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, paths.length) }, lane));
  progress.files = results.filter((r): r is FileResult => r !== undefined);
  progress.current = undefined;
}

async function publishAll(input: IngestAndPublishInput, totals: PublishTotals): Promise<void> {
  const lanes = Math.max(1, Math.floor(input.maxConcurrentPublishes ?? 1));
  if (lanes > 1 && patched(PATCH_CONCURRENT_PUBLISH)) {
    await Promise.all(Array.from({ length: lanes }, (_, index) => publishShare(input, totals, { index, count: lanes })));
    totals.more = false;
    return;
  }
  do {
    const round = await publishPending(input.maxEventsPerPublish ? { maxEvents: input.maxEventsPerPublish } : {});
    addRound(totals, round);
  } while (totals.more);
}

/** One lane of a concurrent publish: its share of the pending batches, round after round until none is left. */
async function publishShare(input: IngestAndPublishInput, totals: PublishTotals, share: { index: number; count: number }): Promise<void> {
  let more: boolean;
  do {
    const round = await publishPending({ ...(input.maxEventsPerPublish ? { maxEvents: input.maxEventsPerPublish } : {}), share });
    addRound(totals, round);
    more = round.more;
  } while (more);
}

function addRound(totals: PublishTotals, round: PublishSummary): void {
  totals.rounds += 1;
  totals.published += round.published;
  totals.batches += round.batches;
  totals.quarantined += round.quarantined;
  totals.durationMs += round.durationMs;
  for (const b of round.ingestBatches) if (!totals.ingestBatches.includes(b)) totals.ingestBatches.push(b);
  totals.more = round.more;
}

/** One line naming what failed, for the Web UI's failure message; the full result is in the failure's details. */
export function failedFilesMessage(result: IngestAndPublishResult): string | undefined {
  const failed = [...(result.jobs ?? []), ...result.files].filter((f) => f.status === 'failed');
  if (!failed.length) return undefined;
  const ok = result.files.filter((f) => f.status !== 'failed').length;
  const jobsOk = (result.jobs ?? []).filter((f) => f.status !== 'failed').length;
  const list = failed.map((f) => `${f.path}: ${f.error ?? 'failed'}`).join('; ');
  return `${failed.length} file(s) failed, ${ok} tracking file(s) ingested${jobsOk ? `, ${jobsOk} job export(s) loaded` : ''}, ${result.publish.published} events published: ${list}`;
}

/** Replaces the daily Airflow DAG: land new exports in Cassandra, then hand their events to Kafka. */
export async function ingestAndPublish(input: IngestAndPublishInput): Promise<IngestAndPublishResult> {
  const progress: IngestProgress = { phase: 'discovering', total: 0, done: 0, files: [], publish: emptyPublish() };
  setHandler(ingestProgressQuery, () => progress);

  const paths: string[] = [...(input.paths ?? [])];
  const skipped: string[] = [];
  let jobs: JobFileResult[] | undefined;
  if (input.landingDir) {
    const found = await discoverFiles({ landingDir: input.landingDir });
    for (const f of found.newFiles) if (!paths.includes(f.path)) paths.push(f.path);
    skipped.push(...found.alreadyIngested.map((f) => f.path));
    if (found.skipped?.length) progress.ignored = found.skipped;
    upsertMemo({
      landingDir: input.landingDir,
      files: paths.slice(0, MEMO_MAX_FILES),
      fileCount: paths.length,
      skippedCount: skipped.length,
    });
    if (found.jobFiles?.length && patched(PATCH_LOAD_JOB_EXPORTS)) jobs = await loadJobExports(found.jobFiles, progress);
  }

  const lanes = Math.max(1, Math.floor(input.maxConcurrentFiles ?? 1));
  if (lanes > 1 && patched(PATCH_CONCURRENT_FILES)) await ingestFilesConcurrently(paths, progress, lanes);
  else await ingestFiles(paths, progress);

  if (input.publish !== false) {
    progress.phase = 'publishing';
    await publishAll(input, progress.publish);
  }

  progress.phase = 'done';
  const result: IngestAndPublishResult = { files: progress.files, skipped, publish: progress.publish };
  if (jobs) result.jobs = jobs;
  if (progress.ignored) result.ignored = progress.ignored;
  const failure = failedFilesMessage(result);
  // Ending FAILED (after the other files and the publish) is what the Web UI counts and what pauses a schedule.
  if (failure && patched(PATCH_FAIL_ON_FAILED_FILES)) {
    upsertMemo({ failedCount: [...(jobs ?? []), ...result.files].filter((f) => f.status === 'failed').length });
    throw ApplicationFailure.nonRetryable(failure, FAILED_FILES_ERROR, result);
  }
  return result;
}
