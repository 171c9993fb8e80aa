import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'cassandra-driver';
import { openTestStack, type TestStack } from '../support/env';
import { createIngestActivities } from '../../activities/ingest';
import { ingestFileCore, type IngestProgress } from '../../lib/ingest/ingest';
import { crashAt, SimulatedCrash } from '../support/faultHooks';
import { BAD_KINDS, BAD_KIND_REASON, writeDataset } from '../../lib/domain/generator';
import { reasonKind } from '../../lib/domain/tracking';

const SAMPLE = path.join(__dirname, '..', 'fixtures', 'tracking_sample.csv');

let stack: TestStack;
let other: TestStack;
let tmp: string;

before(async () => {
  stack = await openTestStack('ingest');
  other = await openTestStack('ingest2');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-ingest-'));
});

after(async () => {
  await stack?.close();
  await other?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ks = (s: TestStack): string => s.config.cassandra.keyspace;

async function all(client: Client, cql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  const rows = client.stream(cql, params, { prepare: true, fetchSize: 5000 }) as unknown as AsyncIterable<unknown>;
  for await (const row of rows) {
    out.push(row as Record<string, unknown>);
  }
  return out;
}

async function count(s: TestStack, table: string, where = '', params: unknown[] = []): Promise<number> {
  const rs = await s.deps.cassandra.execute(`SELECT COUNT(*) AS n FROM ${ks(s)}.${table} ${where}`, params, { prepare: true });
  return Number(rs.rows[0]?.['n']);
}

void test('the sample lands typed: 57 rows, hand-checked values, queued once, batch registered', async () => {
  const acts = createIngestActivities(stack.deps);
  const res = await acts.ingestFile({ path: SAMPLE });
  assert.equal(res.status, 'ingested');
  assert.deepEqual(
    { rowsRead: res.rowsRead, written: res.written, alreadyPresent: res.alreadyPresent, rejected: res.rejected },
    { rowsRead: 57, written: 57, alreadyPresent: 0, rejected: 0 },
  );
  assert.match(res.ingestBatch, /^b[0-9a-f]{20}$/);
  assert.equal(res.ingestBatch, `b${res.contentHash.slice(0, 20)}`);
  assert.equal(await count(stack, 'events_by_hour'), 57);
  assert.equal(await count(stack, 'publish_queue', 'WHERE ingest_batch = ? AND chunk = 0', [res.ingestBatch]), 57);

  // Line 2 of the file (exporter row 0) and line 42 (exporter row 40: job 98, bid 2.0, a click).
  const r0 = (
    await stack.deps.cassandra.execute(
      `SELECT * FROM ${ks(stack)}.events_by_hour WHERE hour = ? AND create_time = ?`,
      ['2022-07-27T03', '5af328a0-0d60-11ed-90e9-7cd44fe229db'],
      { prepare: true },
    )
  ).rows[0]!;
  assert.equal(Number(r0['row_number']), 0);
  assert.equal(Number(r0['line_number']), 2);
  assert.equal(r0['bid'], 1);
  assert.equal(r0['job_id'], 188);
  assert.equal(r0['campaign_id'], 48);
  assert.equal(r0['group_id'], 34);
  assert.equal(r0['publisher_id'], 1);
  assert.equal(r0['custom_track'], null);
  assert.equal(r0['tz'], -420);
  assert.equal(r0['bn'], 'Chrome 103');
  assert.equal(r0['ingest_batch'], res.ingestBatch);
  assert.equal(r0['source_file'], 'tracking_sample.csv');
  const r40 = (
    await stack.deps.cassandra.execute(
      `SELECT * FROM ${ks(stack)}.events_by_hour WHERE hour = ? AND create_time = ?`,
      ['2022-07-08T09', 'f6effc90-fea3-11ec-8a1b-47e436f4e7d4'],
      { prepare: true },
    )
  ).rows[0]!;
  assert.equal(Number(r40['line_number']), 42);
  assert.equal(r40['custom_track'], 'click');
  assert.equal(r40['bid'], 2);
  assert.equal(r40['job_id'], 98);
  assert.equal(r40['campaign_id'], 4);
  assert.equal(r40['group_id'], null);
  const q = (
    await stack.deps.cassandra.execute(
      `SELECT * FROM ${ks(stack)}.publish_queue WHERE ingest_batch = ? AND chunk = 0 AND seq = 42`,
      [res.ingestBatch],
      { prepare: true },
    )
  ).rows[0]!;
  assert.equal(String(q['create_time']), 'f6effc90-fea3-11ec-8a1b-47e436f4e7d4');
  assert.equal(q['hour'], '2022-07-08T09');
  assert.equal(q['job_id'], 98);

  const batch = (
    await stack.deps.cassandra.execute(`SELECT * FROM ${ks(stack)}.ingest_batches WHERE ingest_batch = ?`, [res.ingestBatch], {
      prepare: true,
    })
  ).rows[0]!;
  assert.equal(batch['status'], 'ingested');
  assert.equal(Number(batch['written']), 57);
  assert.equal(batch['max_chunk'], 0);
  assert.equal(await count(stack, 'publish_pending', 'WHERE shard = 0 AND ingest_batch = ?', [res.ingestBatch]), 1);
  assert.equal((await stack.deps.metrics.render()).includes('trackflow_ingest_rows_total{result="written"} 57'), true);

  const discovered = await acts.discoverFiles({ landingDir: path.dirname(SAMPLE) });
  assert.deepEqual(
    discovered.alreadyIngested.map((f) => path.basename(f.path)),
    ['tracking_sample.csv'],
  );
  // The job export beside it is recognised by its header: loaded as jobs, never ingested as tracking.
  assert.deepEqual(discovered.newFiles, []);
  assert.deepEqual(
    discovered.jobFiles?.map((f) => path.basename(f.path)),
    ['job_sample.csv'],
  );
});

void test('the same file again is a duplicate: nothing new in the lake or the queue', async () => {
  const res = await createIngestActivities(stack.deps).ingestFile({ path: SAMPLE });
  assert.equal(res.status, 'duplicate-file');
  assert.equal(res.rowsRead + res.written + res.alreadyPresent + res.rejected, 0);
  assert.equal(await count(stack, 'events_by_hour'), 57);
  assert.equal(await count(stack, 'publish_queue'), 57);
});

void test('an overlapping export: the overlap is already present and not queued, new rows are', async () => {
  const lines = fs.readFileSync(SAMPLE, 'utf8').trimEnd().split('\n');
  const gen = await writeDataset(path.join(tmp, 'fresh'), { events: 40, seed: 99 });
  const fresh = fs.readFileSync(gen.trackingFile, 'utf8').trimEnd().split('\n').slice(1);
  const overlap = lines.slice(1, 30); // 29 rows already in the lake
  const file = path.join(tmp, 'overlap.csv');
  fs.writeFileSync(file, [lines[0], ...overlap, ...fresh].join('\n') + '\n');
  const res = await createIngestActivities(stack.deps).ingestFile({ path: file });
  assert.equal(res.status, 'ingested');
  assert.deepEqual(
    { rowsRead: res.rowsRead, written: res.written, alreadyPresent: res.alreadyPresent, rejected: res.rejected },
    { rowsRead: 69, written: 40, alreadyPresent: 29, rejected: 0 },
  );
  const queued = await all(stack.deps.cassandra, `SELECT seq FROM ${ks(stack)}.publish_queue WHERE ingest_batch = ? AND chunk = 0`, [
    res.ingestBatch,
  ]);
  assert.deepEqual(
    queued.map((r) => Number(r['seq'])),
    Array.from({ length: 40 }, (_, i) => i + 31),
  );
  assert.equal(await count(stack, 'events_by_hour'), 97);
});

void test('malformed rows: rejected count, quarantine lines and reasons equal the generator manifest', async () => {
  const gen = await writeDataset(path.join(tmp, 'bad'), { events: 3000, seed: 5, badRate: 0.01, gzip: true });
  const res = await createIngestActivities(other.deps).ingestFile({ path: gen.trackingFile });
  assert.equal(res.rejected, 30);
  assert.equal(res.written, 2970);
  assert.equal(res.rowsRead, 3000);
  const rows = await all(other.deps.cassandra, `SELECT line_number, reason, raw FROM ${ks(other)}.quarantine WHERE ingest_batch = ? AND stage = 'ingest'`, [
    res.ingestBatch,
  ]);
  const got = rows.map((r) => [Number(r['line_number']), reasonKind(String(r['reason']))] as const).sort((a, b) => a[0] - b[0]);
  const expected = BAD_KINDS.flatMap((k) => gen.manifest.badByKind[k].map((line) => [line, BAD_KIND_REASON[k]] as const)).sort(
    (a, b) => a[0] - b[0],
  );
  assert.deepEqual(got, expected);
  assert.ok(rows.every((r) => String(r['raw']).length > 0));
});

async function lakeSnapshot(s: TestStack, batch: string): Promise<{ events: string[]; queue: string[]; quarantine: string[] }> {
  const c = s.deps.cassandra;
  const events = (await all(c, `SELECT hour, create_time, line_number, ingest_batch, bid, job_id, ua FROM ${ks(s)}.events_by_hour`))
    .map((r) => [r['hour'], r['create_time'], r['line_number'], r['ingest_batch'], r['bid'], r['job_id'], r['ua']].map(String).join('|'))
    .sort();
  const queue = (await all(c, `SELECT ingest_batch, chunk, seq, create_time, job_id FROM ${ks(s)}.publish_queue`))
    .filter((r) => r['ingest_batch'] === batch)
    .map((r) => [r['chunk'], r['seq'], r['create_time'], r['job_id']].map(String).join('|'))
    .sort();
  const quarantine = (await all(c, `SELECT line_number, reason FROM ${ks(s)}.quarantine WHERE ingest_batch = ?`, [batch]))
    .map((r) => `${String(r['line_number'])}|${String(r['reason'])}`)
    .sort();
  return { events, queue, quarantine };
}

void test('a crash after K rows, resumed from the last checkpoint, ends with the lake of a clean run', async () => {
  const gen = await writeDataset(path.join(tmp, 'crash'), { events: 25_000, seed: 21, badRate: 0.002 });
  const crashed = await openTestStack('crash');
  const clean = await openTestStack('clean');
  try {
    const deps = (s: TestStack) => ({ cassandra: s.deps.cassandra, keyspace: ks(s) });
    let last: IngestProgress | undefined;
    await assert.rejects(
      ingestFileCore(deps(crashed), { path: gen.trackingFile }, { chunkRows: 1000, fault: crashAt({ stage: 'ingest', afterRows: 12_345 }), onProgress: (p) => (last = p) }),
      SimulatedCrash,
    );
    assert.ok(last && last.line > 0 && last.rowsRead < 12_345);
    const resumed = await ingestFileCore(deps(crashed), { path: gen.trackingFile }, { chunkRows: 1000, resumeFrom: last });
    assert.equal(resumed.resumedFromLine, last.line);
    const fresh = await ingestFileCore(deps(clean), { path: gen.trackingFile });
    const counts = (r: typeof fresh) => [r.rowsRead, r.written, r.alreadyPresent, r.rejected];
    assert.deepEqual(counts(resumed), counts(fresh));
    assert.deepEqual(counts(fresh), [25_000, 24_950, 0, 50]);
    const a = await lakeSnapshot(crashed, resumed.ingestBatch);
    const b = await lakeSnapshot(clean, fresh.ingestBatch);
    assert.equal(a.events.length, 24_950);
    assert.equal(a.queue.length, 24_950);
    assert.deepEqual(a, b);
    // Lines 2..25001 span queue chunks 0, 1 and 2.
    assert.equal(
      (await crashed.deps.cassandra.execute(`SELECT max_chunk FROM ${ks(crashed)}.ingest_batches WHERE ingest_batch = ?`, [resumed.ingestBatch], { prepare: true })).rows[0]?.['max_chunk'],
      2,
    );
  } finally {
    await crashed.close();
    await clean.close();
  }
});

void test('a file that repeats a create_time keeps the first occurrence only', async () => {
  const lines = fs.readFileSync(SAMPLE, 'utf8').trimEnd().split('\n');
  const gen = await writeDataset(path.join(tmp, 'dups'), { events: 30, seed: 77 });
  const fresh = fs.readFileSync(gen.trackingFile, 'utf8').trimEnd().split('\n').slice(1);
  const file = path.join(tmp, 'dups.csv');
  fs.writeFileSync(file, [lines[0], ...fresh, fresh[3], fresh[4]].join('\n'));
  const res = await ingestFileCore({ cassandra: other.deps.cassandra, keyspace: ks(other) }, { path: file }, { chunkRows: 10 });
  assert.deepEqual([res.rowsRead, res.written, res.alreadyPresent], [32, 30, 2]);
});

void test('a missing file and a wrong header fail without retry, with clear messages', async () => {
  const acts = createIngestActivities(other.deps);
  await assert.rejects(acts.ingestFile({ path: path.join(tmp, 'nope.csv') }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'FileNotFound');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /nope\.csv/);
    return true;
  });
  const file = path.join(tmp, 'wrong-header.csv');
  fs.writeFileSync(file, 'create_time,bid,job_id\n5af328a0-0d60-11ed-90e9-7cd44fe229db,1.0,2.0\n');
  await assert.rejects(acts.ingestFile({ path: file }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'InvalidHeader');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /lacks essential columns \[custom_track, campaign_id, group_id, publisher_id\]/);
    assert.match(err.message, /it has 3 columns, 3 known/);
    return true;
  });
});
