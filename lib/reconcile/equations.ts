/**
 * The reconciliation equations, as pure functions of the stage counts. docs/reconcile.md states each one
 * and why it must hold; gather.ts reads the counts.
 */

import type { IngestCounts, StreamOutcomes } from '../domain/counters';

/** Lake-side counts, over the batches in scope. */
export interface LakeStages extends IngestCounts {
  /** Batches whose ingest finished (status 'ingested'); only these have final counts. */
  batchesIngested: number;
  /** Batches still ingesting (or crashed mid-ingest): their counts are excluded until they finish. */
  batchesIngesting: number;
  /** Batches whose file failed to ingest for good (status 'failed'): never counted. */
  batchesFailed?: number;
  failedBatches?: FailedBatch[];
  /** Batches whose file stopped part-way: what they stored is counted and published (docs/reliability.md). */
  stoppedBatches?: Array<FailedBatch & { rowsRead: number }>;
  /** Rows in `quarantine` with stage 'ingest', for the ingested batches. */
  quarantinedIngestRows: number;
  /** Ingested batches the publisher has finished (publish_progress.completed). */
  batchesPublished: number;
  /** Ingested batches not yet completely published. */
  batchesPublishing: number;
  /** written, published and publish-quarantined over the completely published batches only. */
  writtenOfPublished: number;
  publishedOfPublished: number;
  publishQuarantinedOfPublished: number;
  /** Over every batch, completed or not: what is on the topic so far. */
  published: number;
  publishQuarantined: number;
  /** Rows in `quarantine` with stage 'publish'. */
  quarantinedPublishRows: number;
}

export interface FailedBatch {
  batch: string;
  file: string;
  failedAt: string | null;
  /** The ingest error, as stored with the batch (older batches have none). */
  error?: string | null;
}

/** Stream-side counts: committed totals of the consumer group on the topic, and the warehouse. */
export interface StreamStages extends StreamOutcomes {
  /** SUM(clicks + conversion + qualified_application + disqualified_application) over `events`. */
  warehouseCounted: number;
  /** Messages on the topic not yet committed by the consumer group (high watermark - stored offset). */
  lag: number;
  /** The lake's published total changed while the counts were read: the transport check cannot conclude. */
  publishMoved?: boolean;
}

export interface ReconcileInput {
  /** Set when reconciling one ingest batch: stream counters are per partition, not per batch. */
  batch?: string;
  lake: LakeStages;
  stream?: StreamStages;
}

export type CheckStatus = 'ok' | 'fail' | 'pending' | 'skipped';

export interface Check {
  id: string;
  equation: string;
  left: number;
  right: number;
  status: CheckStatus;
  note?: string;
}

export interface Stage {
  key: string;
  label: string;
  value: number | null;
}

export interface ReconcileResult {
  scope: { batch: string | null };
  status: 'ok' | 'fail' | 'pending';
  stages: Stage[];
  checks: Check[];
  notes: string[];
}

function check(id: string, equation: string, left: number, right: number, pendingNote?: string): Check {
  if (left === right) return { id, equation, left, right, status: 'ok' };
  if (pendingNote !== undefined) return { id, equation, left, right, status: 'pending', note: pendingNote };
  return { id, equation, left, right, status: 'fail', note: `off by ${left - right}` };
}

function skipped(id: string, equation: string, note: string): Check {
  return { id, equation, left: 0, right: 0, status: 'skipped', note };
}

const EQ = {
  transport: 'consumed = published + redelivered (when caught up)',
  stream: 'consumed - redelivered = filtered + unattributed + dead_lettered + duplicates + counted_stream',
  warehouse: 'counted_stream = counted_warehouse',
} as const;

export const STREAM_NOT_PER_BATCH =
  'stream counters are kept per partition, not per ingest batch: only the lake-side equations and published are checked for one batch';

/** Why a batch's numbers are not in the checks yet: failed, still ingesting, or stopped part-way. */
function lakeNotes(lake: LakeStages): string[] {
  const notes: string[] = [];
  if (lake.batchesIngesting > 0) {
    notes.push(`${lake.batchesIngesting} batch(es) still ingesting: not counted until they finish`);
  }
  for (const f of lake.failedBatches ?? []) {
    notes.push(
      `batch ${f.batch} (${f.file}) FAILED to ingest${f.failedAt ? ` at ${f.failedAt}` : ''}: not counted; ` +
        (f.error ? `error: ${f.error}` : 'the error is in that ingest run (trackflow ingest --wait, Web UI)'),
    );
  }
  for (const f of lake.stoppedBatches ?? []) {
    notes.push(
      `batch ${f.batch} (${f.file}) stopped part-way${f.failedAt ? ` at ${f.failedAt}` : ''} after ${f.rowsRead} rows, ` +
        `which are counted and published; error: ${f.error}`,
    );
  }
  return notes;
}

/** The equations of the lake side: ingest and publish, each with its quarantine. */
function lakeChecks(lake: LakeStages): Check[] {
  const publish = check(
    'publish',
    'written = published + publish_quarantined (completely published batches)',
    lake.writtenOfPublished,
    lake.publishedOfPublished + lake.publishQuarantinedOfPublished,
  );
  if (publish.status === 'ok' && lake.batchesPublishing > 0) {
    publish.status = 'pending';
    publish.note = `${lake.batchesPublishing} batch(es) still being published`;
  }
  return [
    check('ingest', 'rows_read = written + already_present + rejected', lake.rowsRead, lake.written + lake.alreadyPresent + lake.rejected),
    check('ingest_quarantine', 'rejected = quarantine rows (stage ingest)', lake.rejected, lake.quarantinedIngestRows),
    publish,
    check('publish_quarantine', 'publish_quarantined = quarantine rows (stage publish)', lake.publishQuarantined, lake.quarantinedPublishRows),
  ];
}

/** The equations of transport, stream and warehouse; transport waits while anything is still in flight. */
function streamChecks(lake: LakeStages, stream: StreamStages): Check[] {
  const pendingWhy = [
    lake.batchesPublishing > 0 ? `${lake.batchesPublishing} batch(es) still being published` : '',
    stream.lag > 0 ? `consumer lag ${stream.lag}` : '',
    stream.publishMoved ? 'published count moved while reading' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return [
    check('transport', EQ.transport, stream.consumed, lake.published + stream.redelivered, pendingWhy || undefined),
    check(
      'stream',
      EQ.stream,
      stream.consumed - stream.redelivered,
      stream.filtered + stream.unattributed + stream.deadLettered + stream.duplicates + stream.counted,
    ),
    check('warehouse', EQ.warehouse, stream.counted, stream.warehouseCounted),
  ];
}

export function evaluate(input: ReconcileInput): ReconcileResult {
  const { lake, stream } = input;
  const checks = lakeChecks(lake);
  const notes = lakeNotes(lake);
  if (input.batch !== undefined || !stream) {
    notes.push(STREAM_NOT_PER_BATCH);
    for (const [id, eq] of Object.entries(EQ)) checks.push(skipped(id, eq, 'not per batch'));
  } else {
    checks.push(...streamChecks(lake, stream));
  }
  const status = checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'pending') ? 'pending' : 'ok';
  return { scope: { batch: input.batch ?? null }, status, stages: stages(input), checks, notes };
}

function stages(input: ReconcileInput): Stage[] {
  const { lake, stream } = input;
  const s = (key: string, label: string, value: number | null): Stage => ({ key, label, value });
  const noStream = input.batch !== undefined || !stream;
  const v = (pick: (x: StreamStages) => number) => (noStream ? null : pick(stream));
  return [
    s('rows_read', 'rows read', lake.rowsRead),
    s('rejected', 'rejected at ingest', lake.rejected),
    s('already_present', 'already in the lake', lake.alreadyPresent),
    s('written', 'written to the lake', lake.written),
    s('published', 'published to Kafka', lake.published),
    s('publish_quarantined', 'quarantined at publish', lake.publishQuarantined),
    s('consumed', 'consumed from Kafka', v((x) => x.consumed)),
    s('redelivered', 'redelivered (re-sends skipped)', v((x) => x.redelivered)),
    s('filtered', 'filtered out by action', v((x) => x.filtered)),
    s('unattributed', 'unattributed (no job)', v((x) => x.unattributed)),
    s('dead_lettered', 'dead-lettered', v((x) => x.deadLettered)),
    s('duplicates', 'duplicates', v((x) => x.duplicates)),
    s('counted_stream', 'counted by the stream', v((x) => x.counted)),
    s('counted_warehouse', 'counted in the warehouse', v((x) => x.warehouseCounted)),
    s('lag', 'consumer lag', v((x) => x.lag)),
    s('unknown_job', 'counted with an unknown job', v((x) => x.unknownJob)),
    s('batches_ingested', 'batches ingested', lake.batchesIngested),
    s('batches_ingesting', 'batches still ingesting', lake.batchesIngesting),
    s('batches_failed', 'batches failed', lake.batchesFailed ?? 0),
    s('batches_publishing', 'batches still publishing', lake.batchesPublishing),
  ];
}

/** The terminal rendering: stages, then each equation with its two sides. */
export function formatReconcile(r: ReconcileResult): string {
  const lines: string[] = [];
  lines.push(r.scope.batch ? `Reconcile of ingest batch ${r.scope.batch}` : 'Reconcile of the whole pipeline');
  lines.push('');
  const width = Math.max(...r.stages.map((s) => s.label.length));
  const numWidth = Math.max(...r.stages.map((s) => fmtInt(s.value).length));
  for (const s of r.stages) lines.push(`  ${s.label.padEnd(width)}  ${fmtInt(s.value).padStart(numWidth)}`);
  lines.push('');
  for (const c of r.checks) {
    const mark = { ok: 'OK  ', fail: 'FAIL', pending: 'WAIT', skipped: 'SKIP' }[c.status];
    const sides = c.status === 'skipped' ? '' : `  (${fmtInt(c.left)} vs ${fmtInt(c.right)})`;
    lines.push(`  ${mark}  ${c.equation}${sides}${c.note ? ` - ${c.note}` : ''}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  lines.push('');
  lines.push(`Result: ${r.status.toUpperCase()}`);
  return lines.join('\n');
}

function fmtInt(n: number | null): string {
  return n === null ? '-' : n.toLocaleString('en-US');
}
