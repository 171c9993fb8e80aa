import crypto from 'node:crypto';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
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
import { DEFAULT_READ_LIMITS, batchIdFor, hashFile, readCsvRecords, statOrFail, type ReadLimits } from './reader';
import { recordLakeHours } from '../lake/hours';
import { registerFile, refreshClaim, releaseClaim, waitForClaim, type ClaimKey } from './claim';
import pLimit from 'p-limit';

/** Checkpoint of an ingest: every record up to `line` is durably handled. Sent as heartbeat details. */
export interface IngestProgress {
  ingestBatch: string;
  line: number;
  rowsRead: number;
  written: number;
  alreadyPresent: number;
  rejected: number;
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
  /** Fault injection for tests: throw once this many rows have been read and written, before checkpointing. */
  crashAfterRows?: number;
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

export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

interface Statements {
  insertEvent: string;
  insertQueue: string;
  insertQuarantine: string;
  selectExisting: string;
}

function statements(ks: string): Statements {
  const eventCols = [...LAKE_COLUMNS, 'hour', 'source_file', 'ingest_batch', 'line_number', 'extras'];
  return {
    insertEvent: `INSERT INTO ${ks}.events_by_hour (${eventCols.join(', ')}) VALUES (${eventCols.map(() => '?').join(', ')})`,
    insertQueue:
      `INSERT INTO ${ks}.publish_queue (ingest_batch, chunk, seq, create_time, hour, job_id, custom_track, bid, ` +
      `campaign_id, group_id, publisher_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
  for (const v of values) n += (typeof v === 'string' ? v.length * 2 : 8) + 12;
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

/**
 * Writes one chunk: one existence query per hour, then events and queue rows in per-partition UNLOGGED
 * batches. A create_time already in the lake from another batch, or from another line of this file, is
 * "already present"; from the same line of this batch it was written by an earlier attempt and is
 * rewritten with the same keys (idempotent).
 */
async function writeChunk(ctx: IngestContext, rows: PendingRow[], rejects: Reject[]): Promise<ChunkResult> {
  const { deps, st, batch } = ctx;
  const client = deps.cassandra;
  const byHour = new Map<string, PendingRow[]>();
  for (const r of rows) {
    let list = byHour.get(r.row.hour);
    if (!list) byHour.set(r.row.hour, (list = []));
    list.push(r);
  }
  // The lake's hour index (verify/rebuild --all) lists an hour before any of its events is written.
  await recordLakeHours(client, deps.keyspace, byHour.keys());

  const existing = new Map<string, { batch: string; line: number }>();
  const lookups: Array<() => Promise<unknown>> = [];
  for (const [hour, list] of byHour) {
    const ids = [...new Set(list.map((r) => r.row.createTime))];
    for (let i = 0; i < ids.length; i += IN_LIST_MAX) {
      const slice = ids.slice(i, i + IN_LIST_MAX);
      lookups.push(async () => {
        const rs = await client.execute(st.selectExisting, [hour, slice], { prepare: true, fetchSize: IN_LIST_MAX + 1 });
        for (const r of rs.rows) {
          const line = r['line_number'] as { toNumber(): number } | null;
          existing.set(String(r['create_time']), { batch: String(r['ingest_batch']), line: line ? line.toNumber() : -1 });
        }
      });
    }
  }
  await runLimited(lookups, ctx.concurrency);

  const seen = new Set<string>();
  const eventGroups = new Map<string, unknown[][]>();
  const queueGroups = new Map<number, unknown[][]>();
  let written = 0;
  let alreadyPresent = 0;
  for (const { line, row } of rows) {
    if (seen.has(row.createTime)) {
      alreadyPresent++;
      continue;
    }
    seen.add(row.createTime);
    const prior = existing.get(row.createTime);
    if (prior && (prior.batch !== batch || prior.line !== line)) {
      alreadyPresent++;
      continue;
    }
    written++;
    const v = row.values;
    // An empty field is left unset (undefined), not bound as null: a bound null writes a tombstone per cell.
    const eventParams: unknown[] = new Array<unknown>(v.length + 5);
    for (let i = 0; i < v.length; i++) eventParams[i] = v[i] ?? undefined;
    eventParams[v.length] = row.hour;
    eventParams[v.length + 1] = ctx.sourceFile;
    eventParams[v.length + 2] = batch;
    eventParams[v.length + 3] = line;
    eventParams[v.length + 4] = row.extras;
    let eg = eventGroups.get(row.hour);
    if (!eg) eventGroups.set(row.hour, (eg = []));
    eg.push(eventParams);
    const chunk = Math.floor(line / QUEUE_CHUNK_LINES);
    let qg = queueGroups.get(chunk);
    if (!qg) queueGroups.set(chunk, (qg = []));
    qg.push([
      batch,
      chunk,
      line,
      row.createTime,
      row.hour,
      v[IDX.jobId] ?? undefined,
      v[IDX.customTrack] ?? undefined,
      v[IDX.bid] ?? undefined,
      v[IDX.campaignId] ?? undefined,
      v[IDX.groupId] ?? undefined,
      v[IDX.publisherId] ?? undefined,
    ]);
  }

  const writes: Array<() => Promise<unknown>> = [];
  const addBatches = (query: string, groups: Iterable<unknown[][]>, maxRows: number): void => {
    for (const params of groups) {
      let cur: Array<{ query: string; params: unknown[] }> = [];
      let bytes = 0;
      const flush = (): void => {
        if (!cur.length) return;
        const queries = cur;
        cur = [];
        bytes = 0;
        writes.push(() =>
          queries.length === 1
            ? client.execute(queries[0]!.query, queries[0]!.params, { prepare: true })
            : client.batch(queries, { prepare: true, logged: false }),
        );
      };
      for (const p of params) {
        const size = estimateBytes(p);
        if (cur.length >= maxRows || (cur.length > 0 && bytes + size > MAX_BATCH_BYTES)) flush();
        cur.push({ query, params: p });
        bytes += size;
      }
      flush();
    }
  };
  addBatches(st.insertEvent, eventGroups.values(), MAX_EVENT_BATCH_ROWS);
  addBatches(st.insertQueue, queueGroups.values(), MAX_QUEUE_BATCH_ROWS);
  const now = new Date();
  for (const r of rejects) {
    writes.push(() =>
      client.execute(st.insertQuarantine, [batch, r.line, ctx.sourceFile, r.reason, r.raw, now], { prepare: true }),
    );
  }
  await runLimited(writes, ctx.concurrency);
  return { written, alreadyPresent };
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

/**
 * Ingests one tracking export into the lake. Plain function so tests can crash and resume it exactly as
 * the Temporal activity does with heartbeat details.
 */
export async function ingestFileCore(
  deps: IngestDeps,
  input: { path: string },
  opts: IngestCoreOptions = {},
): Promise<IngestSummary> {
  const started = Date.now();
  const file = path.resolve(input.path);
  const ks = deps.keyspace;
  const client = deps.cassandra;
  const st0 = await statOrFail(file);
  const limits = opts.limits ?? DEFAULT_INGEST_LIMITS;
  const { hash, size } = await hashFile(file, opts.keepAlive);
  await opts.afterHash?.();
  const batch = batchIdFor(hash);
  const sourceFile = path.basename(file);
  const base = { file, contentHash: hash, ingestBatch: batch };

  const claim: ClaimKey = { keyspace: ks, hash, batch, owner: opts.claimOwner ?? `call:${crypto.randomUUID()}` };
  // A resumed attempt carries on its own earlier claim, whoever the claimant was.
  const takeOver = opts.resumeFrom?.ingestBatch === batch;
  if ((await waitForClaim(client, claim, { takeOver, keepAlive: () => opts.keepAlive?.(opts.resumeFrom) })) === 'ingested') {
    return {
      ...base,
      status: 'duplicate-file',
      rowsRead: 0,
      written: 0,
      alreadyPresent: 0,
      rejected: 0,
      resumedFromLine: 0,
      durationMs: Date.now() - started,
    };
  }

  const resume = opts.resumeFrom && opts.resumeFrom.ingestBatch === batch ? opts.resumeFrom : undefined;
  const progress: IngestProgress = resume
    ? { ...resume }
    : { ingestBatch: batch, line: 0, rowsRead: 0, written: 0, alreadyPresent: 0, rejected: 0 };
  const resumedFromLine = progress.line;

  if (resume) {
    await client.execute(`UPDATE ${ks}.ingest_batches SET status = 'ingesting' WHERE ingest_batch = ?`, [batch], {
      prepare: true,
    });
  } else {
    await client.execute(
      `INSERT INTO ${ks}.ingest_batches (ingest_batch, content_hash, source_file, status, started_at) VALUES (?, ?, ?, 'ingesting', ?)`,
      [batch, hash, sourceFile, new Date()],
      { prepare: true },
    );
  }

  const ctx: IngestContext = {
    deps,
    file,
    sourceFile,
    batch,
    st: statements(ks),
    claim,
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
  };
  const chunkRows = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const metrics = deps.metrics;
  const count = (n: number, result: string): void => {
    if (n > 0) metrics?.inc('trackflow_ingest_rows_total', 'Tracking rows handled by ingest, by result', n, { result });
  };

  let rows: PendingRow[] = [];
  let rejects: Reject[] = [];
  let lastLine = progress.line;
  let maxLine = 0;
  let headerSeen = false;
  let plan: ColumnPlan = STANDARD_PLAN;
  /**
   * Writes of the previous chunk. The next chunk is parsed meanwhile but only written once these are
   * acknowledged: its existence query must see them (a create_time repeated across chunks stays
   * alreadyPresent), and checkpoints stay in file order.
   */
  let writing: Promise<void> | undefined;
  const writeAndCheckpoint = async (chunkRows: PendingRow[], chunkRejects: Reject[], upTo: number): Promise<void> => {
    const res = await writeChunk(ctx, chunkRows, chunkRejects);
    progress.written += res.written;
    progress.alreadyPresent += res.alreadyPresent;
    progress.rejected += chunkRejects.length;
    progress.rowsRead += chunkRows.length + chunkRejects.length;
    progress.line = upTo;
    count(res.written, 'written');
    count(res.alreadyPresent, 'already_present');
    count(chunkRejects.length, 'rejected');
    if (opts.crashAfterRows !== undefined && progress.rowsRead >= opts.crashAfterRows) {
      throw new SimulatedCrash(`simulated crash after ${progress.rowsRead} rows (line ${progress.line})`);
    }
    opts.onProgress?.({ ...progress });
  };
  let queuedRows = progress.rowsRead;
  const flush = async (): Promise<void> => {
    if (writing) await writing;
    writing = undefined;
    if (!rows.length && !rejects.length) {
      progress.line = lastLine;
      return;
    }
    queuedRows += rows.length + rejects.length;
    const started = writeAndCheckpoint(rows, rejects, lastLine);
    // Awaited by the next flush; until then a failure must not surface as an unhandled rejection.
    started.catch(() => undefined);
    writing = started;
    rows = [];
    rejects = [];
  };

  let seenRecords = progress.rowsRead;
  let seenRejects = progress.rejected;
  const timer = setInterval(() => {
    opts.keepAlive?.({ ...progress });
    refreshClaim(client, claim).catch(() => undefined);
  }, limits.heartbeatMs);
  timer.unref();
  try {
    for await (const rec of readCsvRecords(file, { limits, snapshot: { size, hash } })) {
      maxLine = Math.max(maxLine, rec.line);
      if (!headerSeen && rec.parseError) {
        const kind = rec.parseError.split(':', 1)[0];
        throw new InvalidHeader(`${sourceFile}: the header is not a CSV record (${kind})`);
      }
      if (!headerSeen) {
        headerSeen = true;
        const h = planColumns(rec.fields);
        if (!h.ok) throw new InvalidHeader(`${sourceFile}: ${h.error}`);
        if (h.warning) opts.warn?.(`${sourceFile}: ${h.warning}`);
        plan = h.plan;
        continue;
      }
      if (rec.line <= resumedFromLine) continue;
      lastLine = rec.line;
      seenRecords++;
      if (rec.parseError) {
        rejects.push({ line: rec.line, reason: rec.parseError, raw: rec.raw });
        seenRejects++;
      } else {
        const check = checkRecord(rec.fields, rec.invalidUtf8Column, plan);
        if (check.ok) rows.push({ line: rec.line, row: check.row });
        else {
          rejects.push({ line: rec.line, reason: check.reason, raw: rec.raw });
          seenRejects++;
        }
      }
      checkRejectCaps(limits, sourceFile, seenRejects, seenRecords);
      const pending = rows.length + rejects.length;
      const untilCrash =
        opts.crashAfterRows !== undefined ? opts.crashAfterRows - (queuedRows + pending) : Number.POSITIVE_INFINITY;
      if (pending >= chunkRows || untilCrash === 0) await flush();
    }
    if (!headerSeen) throw new InvalidHeader(`${sourceFile}: empty file, no header`);
    await flush();
    await flush();
  } catch (err) {
    clearInterval(timer);
    await writing?.catch(() => undefined);
    if (!isRetryable(err)) {
      await closeFailed(ctx, progress, { hash, size }, headerSeen, err as Error);
      await releaseClaim(client, claim).catch(() => undefined);
    }
    throw err;
  }
  clearInterval(timer);
  const maxChunk = Math.floor(Math.max(maxLine, progress.line) / QUEUE_CHUNK_LINES);
  await finishBatch(ctx, progress, maxChunk, { hash, size: size || st0.size });
  return {
    ...base,
    status: 'ingested',
    rowsRead: progress.rowsRead,
    written: progress.written,
    alreadyPresent: progress.alreadyPresent,
    rejected: progress.rejected,
    resumedFromLine,
    durationMs: Date.now() - started,
  };
}
