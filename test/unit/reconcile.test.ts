import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LakeStages, StreamStages } from '../../lib/reconcile/equations';
import { evaluate, formatReconcile } from '../../lib/reconcile/equations';
import { isUnavailable } from '../../lib/failure';

// A consistent pipeline: 1,000 rows, 20 rejected, 30 already present, 950 written, 949 published + 1
// quarantined at publish; 5 re-sent copies skipped; of 949 events 600 filtered, 100 unattributed,
// 2 dead-lettered, 0 duplicates, 247 counted.
function lake(over: Partial<LakeStages> = {}): LakeStages {
  return {
    batchesIngested: 2,
    batchesIngesting: 0,
    rowsRead: 1000,
    rejected: 20,
    alreadyPresent: 30,
    written: 950,
    quarantinedIngestRows: 20,
    batchesPublished: 2,
    batchesPublishing: 0,
    writtenOfPublished: 950,
    publishedOfPublished: 949,
    publishQuarantinedOfPublished: 1,
    published: 949,
    publishQuarantined: 1,
    quarantinedPublishRows: 1,
    ...over,
  };
}

function stream(over: Partial<StreamStages> = {}): StreamStages {
  return {
    consumed: 954,
    redelivered: 5,
    filtered: 600,
    unattributed: 100,
    deadLettered: 2,
    duplicates: 0,
    counted: 247,
    unknownJob: 3,
    warehouseCounted: 247,
    lag: 0,
    ...over,
  };
}

const statusOf = (r: ReturnType<typeof evaluate>, id: string) => r.checks.find((c) => c.id === id)?.status;

describe('reconcile equations', () => {
  test('a consistent, caught-up pipeline passes every check', () => {
    const r = evaluate({ lake: lake(), stream: stream() });
    assert.equal(r.status, 'ok');
    assert.deepEqual(
      r.checks.map((c) => [c.id, c.status]),
      [
        ['ingest', 'ok'],
        ['ingest_quarantine', 'ok'],
        ['publish', 'ok'],
        ['publish_quarantine', 'ok'],
        ['transport', 'ok'],
        ['stream', 'ok'],
        ['warehouse', 'ok'],
      ],
    );
    assert.equal(r.stages.find((s) => s.key === 'counted_warehouse')?.value, 247);
  });

  test('one warehouse count too many fails the warehouse check with the difference', () => {
    const r = evaluate({ lake: lake(), stream: stream({ warehouseCounted: 248 }) });
    assert.equal(r.status, 'fail');
    const c = r.checks.find((x) => x.id === 'warehouse');
    assert.equal(c?.status, 'fail');
    assert.equal(c?.note, 'off by -1');
    assert.match(formatReconcile(r), /FAIL {2}counted_stream = counted_warehouse {2}\(247 vs 248\) - off by -1/);
    assert.match(formatReconcile(r), /Result: FAIL/);
  });

  test('a lost lake row fails the ingest equation', () => {
    const r = evaluate({ lake: lake({ written: 949, writtenOfPublished: 949 }), stream: stream() });
    assert.equal(statusOf(r, 'ingest'), 'fail');
    assert.equal(statusOf(r, 'publish'), 'fail');
    assert.equal(r.status, 'fail');
  });

  test('an event the stream neither counted nor classified fails the stream equation', () => {
    const r = evaluate({ lake: lake(), stream: stream({ filtered: 599 }) });
    assert.equal(statusOf(r, 'stream'), 'fail');
    assert.equal(statusOf(r, 'transport'), 'ok');
  });

  test('rejected rows without their quarantine record fail', () => {
    const r = evaluate({ lake: lake({ quarantinedIngestRows: 19 }), stream: stream() });
    assert.equal(statusOf(r, 'ingest_quarantine'), 'fail');
  });

  test('publishing in progress or consumer lag is pending, not a failure', () => {
    const publishing = evaluate({
      lake: lake({ batchesPublished: 1, batchesPublishing: 1, writtenOfPublished: 500, publishedOfPublished: 500, publishQuarantinedOfPublished: 0, published: 700 }),
      stream: stream({ consumed: 655, lag: 0, filtered: 350, unattributed: 60, deadLettered: 1, counted: 239, warehouseCounted: 239 }),
    });
    assert.equal(statusOf(publishing, 'publish'), 'pending');
    assert.equal(statusOf(publishing, 'transport'), 'pending');
    assert.equal(publishing.status, 'pending');

    const lagging = evaluate({ lake: lake(), stream: stream({ consumed: 900, lag: 54, filtered: 546 }) });
    assert.equal(statusOf(lagging, 'transport'), 'pending');
    assert.equal(statusOf(lagging, 'stream'), 'ok');
    assert.equal(lagging.status, 'pending');
  });

  test('caught up but consumed more than was published fails the transport check', () => {
    const r = evaluate({ lake: lake(), stream: stream({ consumed: 955, filtered: 601 }) });
    assert.equal(statusOf(r, 'transport'), 'fail');
  });

  test('a completed batch that does not add up fails even while another one is publishing', () => {
    const r = evaluate({ lake: lake({ batchesPublishing: 1, publishedOfPublished: 948 }), stream: stream() });
    assert.equal(statusOf(r, 'publish'), 'fail');
    assert.equal(r.status, 'fail');
  });

  test('per batch: lake side only, the stream side is skipped and says why', () => {
    const r = evaluate({ batch: 'b0123', lake: lake() });
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.scope, { batch: 'b0123' });
    for (const id of ['transport', 'stream', 'warehouse']) assert.equal(statusOf(r, id), 'skipped');
    assert.equal(r.stages.find((s) => s.key === 'published')?.value, 949);
    assert.equal(r.stages.find((s) => s.key === 'consumed')?.value, null);
    assert.match(formatReconcile(r), /per partition, not per ingest batch/);
  });

  test('unreachable services are recognised through wrapped errors', () => {
    assert.equal(isUnavailable(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), true);
    assert.equal(isUnavailable({ name: 'NoHostAvailableError' }), true);
    assert.equal(isUnavailable(new Error('wrapped', { cause: { name: 'KafkaJSConnectionError' } })), true);
    assert.equal(isUnavailable(new Error('syntax error')), false);
  });
});

test('a failed batch is reported as failed with its file, not as still ingesting', () => {
  const r = evaluate({
    lake: lake({ batchesFailed: 1, failedBatches: [{ batch: 'b-bad', file: 'job.csv', failedAt: '2026-01-01T00:00:00.000Z' }] }),
    stream: stream(),
  });
  assert.equal(r.stages.find((s) => s.key === 'batches_failed')?.value, 1);
  const text = formatReconcile(r);
  assert.match(text, /batch b-bad \(job\.csv\) FAILED to ingest at 2026-01-01T00:00:00\.000Z/);
  assert.doesNotMatch(text, /batch\(es\) still ingesting/);
});

test('a failed batch shows its stored error, and a batch that stopped part-way is reported with its rows', () => {
  const r = evaluate({
    lake: lake({
      batchesFailed: 1,
      failedBatches: [{ batch: 'b-hdr', file: 'a.csv', failedAt: null, error: 'InvalidHeader: a.csv: missing columns bid' }],
      stoppedBatches: [{ batch: 'b-gz', file: 'b.csv.gz', failedAt: null, error: 'FileUnreadable: unexpected end of file', rowsRead: 1200 }],
    }),
    stream: stream(),
  });
  const text = formatReconcile(r);
  assert.match(text, /batch b-hdr \(a\.csv\) FAILED to ingest: not counted; error: InvalidHeader: a\.csv: missing columns bid/);
  assert.match(text, /batch b-gz \(b\.csv\.gz\) stopped part-way after 1200 rows, which are counted and published; error: FileUnreadable: unexpected end of file/);
});
