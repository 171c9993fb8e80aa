import crypto from 'node:crypto';
import path from 'node:path';
import { types, type Client } from 'cassandra-driver';
import { InvalidHeader, TooManyRejects, isRetryable } from '../domain/errors';
import type { Metrics } from '../metrics';
import type { IngestSummary } from './summaries';
import {
  IDX,
  LAKE_COLUMNS,
  STANDARD_PLAN,
  checkRecord,
  planColumns,
  type ColumnPlan,
  type TrackingRow,
} from '../domain/tracking';
import type { FaultHook } from '../faults';
import { INGEST_ROW_RESULTS, type IngestCounts } from '../domain/counters';
import { DEFAULT_READ_LIMITS, batchIdFor, hashFile, readCsvRecords, statOrFail, type RawRecord, type ReadLimits } from './reader';
import { recordLakeHours } from '../lake/hours';
import { registerFile, refreshClaim, releaseClaim, waitForClaim, type ClaimKey } from './claim';
import { shapedInserts, type Insert } from './shapedInsert';
import pLimit from 'p-limit';

/** Checkpoint of an ingest: every record up to `line` is durably handled. Sent as heartbeat details. */
export interface IngestProgress extends IngestCounts {
  ingestBatch: string;
  line: number;
}

/** Per-file limits (lib/config.ts `ingest`): one bad record is quarantined, a file of them fails. */
export interface IngestLimits extends ReadLimits {
  /** More rejects than this fails the file. */
  maxRejects: number;
  /** A reject share above this, once `rejectRatioMinRecords` records are read, fails the file. */
  maxRejectRatio: number;
  rejectRatioMinRecords: number;
  /** Heartbeat period, whatever the rows do. */
  heartbeatMs: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  ...DEFAULT_READ_LIMITS,
  maxRejects: 10_000,
  maxRejectRatio: 0.5,
  rejectRatioMinRecords: 1000,
  heartbeatMs: 5000,
};

export interface IngestCoreOptions {
  limits?: IngestLimits;
  resumeFrom?: IngestProgress;
  onProgress?: (p: IngestProgress) => void;
  /** Warnings about the file as a whole (its header), once per file. */
  warn?: (message: string) => void;
  /**
   * Called every `heartbeatMs` and during long phases without a new checkpoint (hashing, slow decompression,
   * blank lines), with the last checkpoint, so a heartbeat timeout does not fire while work goes on.
   */
  keepAlive?: (p?: IngestProgress) => void;
  /** Test hook: runs after the file is hashed and before it is read again. */
  afterHash?: () => Promise<void>;
  /** Test-only fault hook (lib/faults.ts): called after each chunk is written, before it is checkpointed. */
  fault?: FaultHook;
  chunkRows?: number;
  concurrency?: number;
  /** Who claims the content hash (lib/ingest/claim.ts); the activity passes its workflow id. Default: unique per call. */
  claimOwner?: string;
}

export interface IngestDeps {
  cassandra: Client;
  keyspace: string;
  metrics?: Metrics;
}

export const QUEUE_CHUNK_LINES = 10_000;
/**
 * Cassandra's cost is per request more than per row: a chunk makes one existence query and about one event
 * batch per hour partition it touches, so larger chunks mean fewer, fuller requests. Two chunks are in memory
 * at most (one being written, one being parsed).
 */
const DEFAULT_CHUNK_ROWS = 10_000;
const DEFAULT_CONCURRENCY = 64;
/** Cassandra fails batches over 50 KiB by default (batch_size_fail_threshold); stay under it with margin. */
const MAX_BATCH_BYTES = 40 * 1024;
const MAX_EVENT_BATCH_ROWS = 100;
const MAX_QUEUE_BATCH_ROWS = 250;
const IN_LIST_MAX = 500;

interface Statements {
  /** The events_by_hour and publish_queue inserts of a row's values, naming only the columns it has. */
  insertEvent: (values: readonly unknown[]) => Insert;
  insertQueue: (values: readonly unknown[]) => Insert;
  insertQuarantine: string;
  selectExisting: string;
}

/** events_by_hour's columns in the order eventValues lists them. */
const EVENT_COLUMNS = [...LAKE_COLUMNS, 'hour', 'source_file', 'ingest_batch', 'line_number', 'extras'];
const QUEUE_COLUMNS = ['ingest_batch', 'chunk', 'seq', 'create_time', 'hour', 'job_id', 'custom_track', 'bid', 'campaign_id', 'group_id', 'publisher_id'];

function statements(ks: string): Statements {
  return {
    insertEvent: shapedInserts(`${ks}.events_by_hour`, EVENT_COLUMNS),
    insertQueue: shapedInserts(`${ks}.publish_queue`, QUEUE_COLUMNS),
    insertQuarantine:
      `INSERT INTO ${ks}.quarantine (ingest_batch, stage, line_number, source_file, reason, raw, quarantined_at) ` +
      `VALUES (?, 'ingest', ?, ?, ?, ?, ?)`,
    selectExisting: `SELECT create_time, ingest_batch, line_number FROM ${ks}.events_by_hour WHERE hour = ? AND create_time IN ?`,
  };
}

/** Runs tasks with at most `limit` in flight; rejects with the first failure after all started ones settle. */
async function runLimited(tasks: Array<() => Promise<unknown>>, limit: number): Promise<void> {
  const run = pLimit(Math.max(1, limit));
  let failure: { err: unknown } | undefined;
  // A task that gets its slot after a failure does not start; every call settles, so none is left waiting.
  const guarded = async (task: () => Promise<unknown>): Promise<void> => {
    if (failure) return;
    try {
      await task();
    } catch (err) {
      failure ??= { err };
    }
  };
  await Promise.all(tasks.map((task) => run(() => guarded(task))));
  if (failure) throw failure.err;
}

/** Mutation size as Cassandra counts it against the batch limit: values plus per-cell overhead. */
function estimateBytes(values: readonly unknown[]): number {
  let n = 64;
  for (const v of values) n += (typeof v === 'string' ? v.length * 2 : v instanceof types.Uuid ? 16 : 8) + 12;
  return n;
}

interface PendingRow {
  line: number;
  row: TrackingRow;
}

interface Reject {
  line: number;
  reason: string;
  raw: string;
}

export interface IngestContext {
  /** The content-hash claim this ingest holds (lib/ingest/claim.ts). */
  claim: ClaimKey;
  deps: IngestDeps;
  file: string;
  sourceFile: string;
  batch: string;
  st: Statements;
  concurrency: number;
}

interface ChunkResult {
  written: number;
  alreadyPresent: number;
}

type Task = () => Promise<unknown>;

function groupBy<K, T>(items: Iterable<T>, keyOf: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(item);
  }
  return out;
}

/** The lake's rows for the chunk's create_times: one IN query per hour and at most IN_LIST_MAX ids. */
async function findExisting(ctx: IngestContext, byHour: Map<string, PendingRow[]>): Promise<Map<string, { batch: string; line: number }>> {
  const existing = new Map<string, { batch: string; line: number }>();
  const lookups: Task[] = [];
  for (const [hour, list] of byHour) {
    const ids = [...new Set(list.map((r) => r.row.createTime))];
    for (let i = 0; i < ids.length; i += IN_LIST_MAX) {
      const slice = ids.slice(i, i + IN_LIST_MAX);
      lookups.push(async () => {
        const rs = await ctx.deps.cassandra.execute(ctx.st.selectExisting, [hour, slice], { prepare: true, fetchSize: IN_LIST_MAX + 1 });
        for (const r of rs.rows) {
          const line = r['line_number'] as { toNumber(): number } | null;
          existing.set(String(r['create_time']), { batch: String(r['ingest_batch']), line: line ? line.toNumber() : -1 });
        }
      });
    }
  }
  await runLimited(lookups, ctx.concurrency);
  return existing;
}

/** The events_by_hour values of a row, in EVENT_COLUMNS order; empty ones null (left out of the insert). */
function eventValues(ctx: IngestContext, line: number, row: TrackingRow, createTime: types.Uuid): unknown[] {
  const values: unknown[] = row.values.slice();
  values[IDX.createTime] = createTime;
  values.push(row.hour, ctx.sourceFile, ctx.batch, line, row.extras);
  return values;
}

/** The publish_queue values of a row, in QUEUE_COLUMNS order. */
function queueValues(batch: string, chunk: number, line: number, row: TrackingRow, createTime: types.Uuid): unknown[] {
  const v = row.values;
  return [batch, chunk, line, createTime, row.hour, v[IDX.jobId], v[IDX.customTrack], v[IDX.bid], v[IDX.campaignId], v[IDX.groupId], v[IDX.publisherId]];
}

/**
 * Which rows to write: a create_time already in the lake from another batch, or from another line of this
 * file, is "already present"; from the same line of this batch it was written by an earlier attempt and is
 * rewritten with the same keys (idempotent). Returns the values grouped by hour (events) and queue chunk.
 */
function rowsToWrite(ctx: IngestContext, rows: PendingRow[], existing: Map<string, { batch: string; line: number }>) {
  const seen = new Set<string>();
  const events = new Map<string, Insert[]>();
  const queue = new Map<number, Insert[]>();
  let written = 0;
  let alreadyPresent = 0;
  for (const { line, row } of rows) {
    const prior = existing.get(row.createTime);
    if (seen.has(row.createTime) || (prior && (prior.batch !== ctx.batch || prior.line !== line))) {
      alreadyPresent++;
      continue;
    }
    seen.add(row.createTime);
    written++;
    const chunk = Math.floor(line / QUEUE_CHUNK_LINES);
    // Parsed once for both rows: the driver would parse the text of each.
    const id = types.Uuid.fromString(row.createTime);
    (events.get(row.hour) ?? events.set(row.hour, []).get(row.hour)!).push(ctx.st.insertEvent(eventValues(ctx, line, row, id)));
    (queue.get(chunk) ?? queue.set(chunk, []).get(chunk)!).push(ctx.st.insertQueue(queueValues(ctx.batch, chunk, line, row, id)));
  }
  return { events, queue, written, alreadyPresent };
}

/** UNLOGGED batches of one partition's inserts, each under MAX_BATCH_BYTES and `maxRows`. */
function batchedInserts(client: Client, groups: Iterable<Insert[]>, maxRows: number): Task[] {
  const writes: Task[] = [];
  for (const inserts of groups) {
    let cur: Insert[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (!cur.length) return;
      const queries = cur;
      cur = [];
      bytes = 0;
      writes.push(() =>
        queries.length === 1 ? client.execute(queries[0]!.query, queries[0]!.params, { prepare: true }) : client.batch(queries, { prepare: true, logged: false }),
      );
    };
    for (const ins of inserts) {
      const size = estimateBytes(ins.params);
      if (cur.length >= maxRows || (cur.length > 0 && bytes + size > MAX_BATCH_BYTES)) flush();
      cur.push(ins);
      bytes += size;
    }
    flush();
  }
  return writes;
}

/**
 * Writes one chunk: the hours into the hour index, one existence query per hour, then events and queue rows
 * in per-partition UNLOGGED batches, and the chunk's rejects into the quarantine.
 */
async function writeChunk(ctx: IngestContext, rows: PendingRow[], rejects: Reject[]): Promise<ChunkResult> {
  const client = ctx.deps.cassandra;
  const byHour = groupBy(rows, (r) => r.row.hour);
  // The lake's hour index (verify/rebuild --all) lists an hour before any of its events is written.
  await recordLakeHours(client, ctx.deps.keyspace, byHour.keys());
  const plan = rowsToWrite(ctx, rows, await findExisting(ctx, byHour));
  const now = new Date();
  const writes = [
    ...batchedInserts(client, plan.events.values(), MAX_EVENT_BATCH_ROWS),
    ...batchedInserts(client, plan.queue.values(), MAX_QUEUE_BATCH_ROWS),
    ...rejects.map((r) => () => client.execute(ctx.st.insertQuarantine, [ctx.batch, r.line, ctx.sourceFile, r.reason, r.raw, now], { prepare: true })),
  ];
  await runLimited(writes, ctx.concurrency);
  return { written: plan.written, alreadyPresent: plan.alreadyPresent };
}

/** Rejects so far past a cap: the file fails (what it stored is still published). */
function checkRejectCaps(limits: IngestLimits, sourceFile: string, rejected: number, read: number): void {
  if (rejected > limits.maxRejects) {
    throw new TooManyRejects(
      `${sourceFile}: more than ${limits.maxRejects} rejected records; the file stops here (rows before are kept)`,
    );
  }
  if (read >= limits.rejectRatioMinRecords && rejected / read > limits.maxRejectRatio) {
    throw new TooManyRejects(
      `${sourceFile}: ${rejected} of ${read} records rejected, over the ${limits.maxRejectRatio} limit; the file stops here (rows before are kept)`,
    );
  }
}

/**
 * Closes a batch: its counts become final and it is queued for publish. `error` marks a file that stopped
 * part-way: its stored rows are published all the same (docs/reliability.md), but the file is not registered,
 * so a corrected copy (another hash) is a batch of its own and finds those rows already present.
 */
async function finishBatch(
  ctx: IngestContext,
  progress: IngestProgress,
  maxChunk: number,
  file: { hash: string; size: number },
  error?: string,
): Promise<void> {
  const { cassandra: client, keyspace: ks } = ctx.deps;
  const finished = new Date();
  await client.execute(
    `UPDATE ${ks}.ingest_batches SET status = 'ingested', rows_read = ?, written = ?, already_present = ?, rejected = ?, ` +
      `max_chunk = ?, finished_at = ?, content_hash = ?, source_file = ?, error = ? WHERE ingest_batch = ?`,
    [progress.rowsRead, progress.written, progress.alreadyPresent, progress.rejected, maxChunk, finished, file.hash, ctx.sourceFile, error ?? null, ctx.batch],
    { prepare: true },
  );
  await client.execute(`INSERT INTO ${ks}.publish_pending (shard, ingest_batch, enqueued_at) VALUES (0, ?, ?)`, [ctx.batch, finished], {
    prepare: true,
  });
  if (error !== undefined) return;
  await registerFile(client, ctx.claim, { sourceFile: ctx.sourceFile, size: file.size, at: finished });
}

/** The error as stored with the batch: type and message, bounded (messages name paths and rules, never file content). */
function describeFailure(err: Error & { type?: string | null }): string {
  return `${err.type ?? 'Error'}: ${err.message}`.slice(0, 500);
}

/**
 * A file that cannot go on (bad gzip, a cap, a changed file). Rows already stored stay and are published: the
 * checkpointed counts are final. A file that failed before any data row (header) is only marked failed.
 */
async function closeFailed(
  ctx: IngestContext,
  progress: IngestProgress,
  file: { hash: string; size: number },
  headerSeen: boolean,
  err: Error & { type?: string | null },
): Promise<void> {
  const { cassandra: client, keyspace: ks } = ctx.deps;
  try {
    if (headerSeen && progress.rowsRead > 0) {
      await finishBatch(ctx, progress, Math.floor(progress.line / QUEUE_CHUNK_LINES), file, describeFailure(err));
      return;
    }
    await client.execute(
      `UPDATE ${ks}.ingest_batches SET status = 'failed', finished_at = ?, error = ? WHERE ingest_batch = ?`,
      [new Date(), describeFailure(err), ctx.batch],
      { prepare: true },
    );
  } catch {
    // The batch stays 'ingesting': a retry of the same file resumes it; the original error is what matters.
  }
}

/** One ingest as it runs: where it is (progress, the rows parsed but not written) and what it was given. */
interface IngestRun {
  ctx: IngestContext;
  opts: IngestCoreOptions;
  limits: IngestLimits;
  chunkRows: number;
  file: { hash: string; size: number };
  progress: IngestProgress;
  resumedFromLine: number;
  /** Parsed since the last flush. */
  rows: PendingRow[];
  rejects: Reject[];
  lastLine: number;
  maxLine: number;
  headerSeen: boolean;
  plan: ColumnPlan;
  /** Records and rejects seen, checkpointed or not (the reject caps count them). */
  seenRecords: number;
  seenRejects: number;
  /**
   * Writes of the previous chunk. The next chunk is parsed meanwhile but only written once these are
   * acknowledged: its existence query must see them (a create_time repeated across chunks stays
   * alreadyPresent), and checkpoints stay in file order.
   */
  writing?: Promise<void>;
}

function countRows(run: IngestRun, n: number, result: string): void {
  if (n > 0) run.ctx.deps.metrics?.inc('trackflow_ingest_rows_total', 'Tracking rows handled by ingest, by result', n, { result });
}

/** Writes a chunk, then checkpoints it: the progress covers every record up to `upTo`. */
async function writeAndCheckpoint(run: IngestRun, rows: PendingRow[], rejects: Reject[], upTo: number): Promise<void> {
  const { progress } = run;
  const res = await writeChunk(run.ctx, rows, rejects);
  progress.written += res.written;
  progress.alreadyPresent += res.alreadyPresent;
  progress.rejected += rejects.length;
  progress.rowsRead += rows.length + rejects.length;
  progress.line = upTo;
  countRows(run, res.written, INGEST_ROW_RESULTS.written);
  countRows(run, res.alreadyPresent, INGEST_ROW_RESULTS.alreadyPresent);
  countRows(run, rejects.length, INGEST_ROW_RESULTS.rejected);
  run.opts.fault?.({ stage: 'ingest', point: 'chunk-written', rowsRead: progress.rowsRead, line: progress.line });
  run.opts.onProgress?.({ ...progress });
}

/** Waits for the previous chunk's writes, then starts writing the rows parsed since. */
async function flush(run: IngestRun): Promise<void> {
  if (run.writing) await run.writing;
  run.writing = undefined;
  if (!run.rows.length && !run.rejects.length) {
    run.progress.line = run.lastLine;
    return;
  }
  const started = writeAndCheckpoint(run, run.rows, run.rejects, run.lastLine);
  // Awaited by the next flush; until then a failure must not surface as an unhandled rejection.
  started.catch(() => undefined);
  run.writing = started;
  run.rows = [];
  run.rejects = [];
}

/** The first record: the header, which picks the column plan (or fails the file). */
function takeHeader(run: IngestRun, rec: RawRecord): void {
  const sourceFile = run.ctx.sourceFile;
  if (rec.parseError) {
    const kind = rec.parseError.split(':', 1)[0];
    throw new InvalidHeader(`${sourceFile}: the header is not a CSV record (${kind})`);
  }
  run.headerSeen = true;
  const h = planColumns(rec.fields);
  if (!h.ok) throw new InvalidHeader(`${sourceFile}: ${h.error}`);
  if (h.warning) run.opts.warn?.(`${sourceFile}: ${h.warning}`);
  run.plan = h.plan;
}

/** A data record: a row to write or a reject to quarantine, then the reject caps. */
function takeRecord(run: IngestRun, rec: RawRecord): void {
  run.lastLine = rec.line;
  run.seenRecords++;
  const check = rec.parseError ? { ok: false as const, reason: rec.parseError } : checkRecord(rec.fields, rec.invalidUtf8Column, run.plan);
  if (check.ok) run.rows.push({ line: rec.line, row: check.row });
  else {
    run.rejects.push({ line: rec.line, reason: check.reason, raw: rec.raw });
    run.seenRejects++;
  }
  checkRejectCaps(run.limits, run.ctx.sourceFile, run.seenRejects, run.seenRecords);
}

/** Reads the file from the start (records up to the checkpoint are skipped), writing a chunk every `chunkRows`. */
async function readAndWrite(run: IngestRun): Promise<void> {
  for await (const rec of readCsvRecords(run.ctx.file, { limits: run.limits, snapshot: run.file })) {
    run.maxLine = Math.max(run.maxLine, rec.line);
    if (!run.headerSeen) {
      takeHeader(run, rec);
      continue;
    }
    if (rec.line <= run.resumedFromLine) continue;
    takeRecord(run, rec);
    if (run.rows.length + run.rejects.length >= run.chunkRows) await flush(run);
  }
  if (!run.headerSeen) throw new InvalidHeader(`${run.ctx.sourceFile}: empty file, no header`);
  await flush(run);
  await flush(run);
}

/** Records the batch as ingesting: a new row, or the resumed batch's row set back to ingesting. */
async function openBatchRow(ctx: IngestContext, hash: string, resumed: boolean): Promise<void> {
  const ks = ctx.deps.keyspace;
  if (resumed) {
    await ctx.deps.cassandra.execute(`UPDATE ${ks}.ingest_batches SET status = 'ingesting' WHERE ingest_batch = ?`, [ctx.batch], { prepare: true });
    return;
  }
  await ctx.deps.cassandra.execute(
    `INSERT INTO ${ks}.ingest_batches (ingest_batch, content_hash, source_file, status, started_at) VALUES (?, ?, ?, 'ingesting', ?)`,
    [ctx.batch, hash, ctx.sourceFile, new Date()],
    { prepare: true },
  );
}

/** The run of a claimed file, resumed from the checkpoint when it belongs to the same batch. */
function newRun(ctx: IngestContext, file: { hash: string; size: number }, opts: IngestCoreOptions): IngestRun {
  const resume = opts.resumeFrom && opts.resumeFrom.ingestBatch === ctx.batch ? opts.resumeFrom : undefined;
  const progress: IngestProgress = resume
    ? { ...resume }
    : { ingestBatch: ctx.batch, line: 0, rowsRead: 0, written: 0, alreadyPresent: 0, rejected: 0 };
  return {
    ctx, opts, file, progress,
    limits: opts.limits ?? DEFAULT_INGEST_LIMITS,
    chunkRows: opts.chunkRows ?? DEFAULT_CHUNK_ROWS,
    resumedFromLine: progress.line,
    rows: [], rejects: [],
    lastLine: progress.line, maxLine: 0, headerSeen: false, plan: STANDARD_PLAN,
    seenRecords: progress.rowsRead, seenRejects: progress.rejected,
  };
}

/** Reads and writes the whole file, keeping the heartbeat and the claim alive; a file that cannot go on is closed failed. */
async function ingestClaimed(run: IngestRun): Promise<void> {
  const { ctx, opts } = run;
  const timer = setInterval(() => {
    opts.keepAlive?.({ ...run.progress });
    refreshClaim(ctx.deps.cassandra, ctx.claim).catch(() => undefined);
  }, run.limits.heartbeatMs);
  timer.unref();
  try {
    await readAndWrite(run);
  } catch (err) {
    clearInterval(timer);
    await run.writing?.catch(() => undefined);
    if (!isRetryable(err)) {
      await closeFailed(ctx, run.progress, run.file, run.headerSeen, err as Error);
      await releaseClaim(ctx.deps.cassandra, ctx.claim).catch(() => undefined);
    }
    throw err;
  }
  clearInterval(timer);
}

function summaryOf(
  base: Pick<IngestSummary, 'file' | 'contentHash' | 'ingestBatch'>,
  status: IngestSummary['status'],
  p: IngestCounts,
  resumedFromLine: number,
  started: number,
): IngestSummary {
  return {
    ...base, status, rowsRead: p.rowsRead, written: p.written, alreadyPresent: p.alreadyPresent, rejected: p.rejected,
    resumedFromLine, durationMs: Date.now() - started,
  };
}

/**
 * Ingests one tracking export into the lake: hash, claim the hash, open the batch, read and write the file
 * chunk by chunk with a checkpoint after each, then close the batch and queue it for publish. Plain function
 * so tests can crash and resume it exactly as the Temporal activity does with heartbeat details.
 */
export async function ingestFileCore(deps: IngestDeps, input: { path: string }, opts: IngestCoreOptions = {}): Promise<IngestSummary> {
  const started = Date.now();
  const file = path.resolve(input.path);
  const st0 = await statOrFail(file);
  const { hash, size } = await hashFile(file, opts.keepAlive);
  await opts.afterHash?.();
  const batch = batchIdFor(hash);
  const base = { file, contentHash: hash, ingestBatch: batch };
  const claim: ClaimKey = { keyspace: deps.keyspace, hash, batch, owner: opts.claimOwner ?? `call:${crypto.randomUUID()}` };
  // A resumed attempt carries on its own earlier claim, whoever the claimant was.
  const takeOver = opts.resumeFrom?.ingestBatch === batch;
  if ((await waitForClaim(deps.cassandra, claim, { takeOver, keepAlive: () => opts.keepAlive?.(opts.resumeFrom) })) === 'ingested') {
    return summaryOf(base, 'duplicate-file', { rowsRead: 0, written: 0, alreadyPresent: 0, rejected: 0 }, 0, started);
  }
  const ctx: IngestContext = {
    deps, file, sourceFile: path.basename(file), batch, st: statements(deps.keyspace), claim,
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
  };
  const run = newRun(ctx, { hash, size }, opts);
  await openBatchRow(ctx, hash, takeOver);
  await ingestClaimed(run);
  const maxChunk = Math.floor(Math.max(run.maxLine, run.progress.line) / QUEUE_CHUNK_LINES);
  await finishBatch(ctx, run.progress, maxChunk, { hash, size: size || st0.size });
  return summaryOf(base, 'ingested', run.progress, run.resumedFromLine, started);
}
