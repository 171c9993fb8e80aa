import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterEach, beforeEach, test } from 'node:test';
import { generateJobs, generateTracking } from '../../../lib/domain/generator';
import { ingestFileCore } from '../../../lib/ingest/ingest';
import { assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, openFaultStack, type FaultStack } from '../../support/faults';
import { expectedFrom } from '../../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('recovery');
});
afterEach(async () => {
  await s?.close();
});

void test('case 1: a truncated .gz stops part-way; its stored rows are published and the corrected re-send counts every event once', async () => {
  const lines = [...generateTracking({ events: 4000, seed: 131, badRate: 0.01 }).lines];
  const full = path.join(s.dir, 'export.csv');
  fs.writeFileSync(full, lines.join('\n') + '\n');
  const gz = zlib.gzipSync(fs.readFileSync(full));
  const truncated = path.join(s.dir, 'export-truncated.csv.gz');
  fs.writeFileSync(truncated, gz.subarray(0, Math.floor(gz.length * 0.7)));
  const corrected = path.join(s.dir, 'export.csv.gz');
  fs.writeFileSync(corrected, gz);
  const jobs = path.join(s.dir, 'job.csv');
  fs.writeFileSync(jobs, [...generateJobs(131)].join('\n') + '\n');
  await loadJobs(s, jobs);

  const lake = { cassandra: s.deps.cassandra, keyspace: s.config.cassandra.keyspace };
  // Small chunks: rows are stored (and checkpointed) well before the read fails.
  await assert.rejects(ingestFileCore(lake, { path: truncated }, { chunkRows: 500 }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'FileUnreadable');
    return true;
  });
  await ingestAndPublishDirect(s, [corrected]);
  await consumeUntilCaughtUp(s);
  const ks = s.config.cassandra.keyspace;
  const batches = await s.deps.cassandra.execute(`SELECT source_file, written, already_present, error FROM ${ks}.ingest_batches`);
  const partial = batches.rows.find((r) => r['source_file'] === 'export-truncated.csv.gz');
  assert.ok(partial && Number(partial['written']) >= 1000, `the truncated file stored rows: ${JSON.stringify(partial)}`);
  assert.match(String(partial['error']), /^FileUnreadable: /);
  await assertExact(s, '1 truncated gz then corrected re-send', expectedFrom([full], jobs));
});

void test('case 1: a record over the size limit no longer fails its file; the re-send without it counts every event once', async () => {
  const lines = [...generateTracking({ events: 3000, seed: 132, badRate: 0.01 }).lines];
  const withBig = [...lines.slice(0, 1500), `1499,${'9'.repeat(1_200_000)}`, ...lines.slice(1500)];
  const a = path.join(s.dir, 'export-big.csv');
  fs.writeFileSync(a, withBig.join('\n') + '\n');
  const b = path.join(s.dir, 'export-fixed.csv');
  fs.writeFileSync(b, lines.join('\n') + '\n');
  const jobs = path.join(s.dir, 'job.csv');
  fs.writeFileSync(jobs, [...generateJobs(132)].join('\n') + '\n');
  await loadJobs(s, jobs);
  const exp = expectedFrom([a, b], jobs);
  assert.ok(exp.rejectedByLine.some((r) => r.kind === 'record_too_large'), 'the reference sees the oversized record');
  await ingestAndPublishDirect(s, [a, b]);
  await consumeUntilCaughtUp(s);
  await assertExact(s, '1 oversized record then re-send', exp);
});
