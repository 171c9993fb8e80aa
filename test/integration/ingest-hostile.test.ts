import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { openTestStack, type TestStack } from '../support/env';
import { DEFAULT_INGEST_LIMITS, ingestFileCore } from '../../lib/ingest/ingest';
import { generateTracking } from '../../lib/domain/generator';

let stack: TestStack;
let tmp: string;

before(async () => {
  stack = await openTestStack('ingesthostile');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-hostile-'));
});
after(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const deps = () => ({ cassandra: stack.deps.cassandra, keyspace: stack.config.cassandra.keyspace });

async function count(cql: string, params: unknown[]): Promise<number> {
  const rs = await stack.deps.cassandra.execute(cql, params, { prepare: true });
  return Number(rs.first()?.['n'] ?? 0);
}

void test('case 2: rows appended while the file is ingested are not read; a half-written last line is a reject, not a row', async () => {
  const gen = generateTracking({ events: 120, seed: 201, badRate: 0 });
  const [header, ...rows] = [...gen.lines];
  const last = rows[99]!;
  const cut = last.length - 3; // inside the last column (vp): the fragment still has 30 fields
  const file = path.join(tmp, 'growing.csv');
  fs.writeFileSync(file, [header, ...rows.slice(0, 99)].join('\n') + '\n' + last.slice(0, cut));
  const first = await ingestFileCore(deps(), { path: file }, {
    afterHash: async () => fs.promises.appendFile(file, last.slice(cut) + '\n' + rows.slice(100).join('\n') + '\n'),
  });
  assert.equal(first.rowsRead, 100, 'only the bytes that were hashed are read');
  assert.equal(first.rejected, 1, 'the line being written is held back');
  assert.equal(first.written, 99);
  const second = await ingestFileCore(deps(), { path: file });
  assert.equal(second.written, 21, 'the completed line and the appended ones');
  const ks = stack.config.cassandra.keyspace;
  const q = await stack.deps.cassandra.execute(`SELECT reason FROM ${ks}.quarantine WHERE ingest_batch = ?`, [first.ingestBatch], { prepare: true });
  assert.match(String(q.first()?.['reason']), /^unparsable: incomplete last line/);
});

void test('case 12: a 547-byte-class .gz of bad lines stops at the reject cap, with a bounded quarantine', async () => {
  const body = Buffer.from(`${[...generateTracking({ events: 1, seed: 1, badRate: 0 }).lines][0]}\n` + 'x\n'.repeat(200_000));
  const gz = zlib.gzipSync(body, { level: 9 });
  assert.ok(gz.length < 1500, `${gz.length} bytes`);
  const file = path.join(tmp, 'rejects.csv.gz');
  fs.writeFileSync(file, gz);
  const limits = { ...DEFAULT_INGEST_LIMITS, maxRejects: 5000, maxRejectRatio: 1 };
  await assert.rejects(ingestFileCore(deps(), { path: file }, { limits, chunkRows: 1000 }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'TooManyRejects');
    assert.match(err.message, /more than 5000 rejected records/);
    return true;
  });
  const ks = stack.config.cassandra.keyspace;
  const b = await stack.deps.cassandra.execute(`SELECT ingest_batch, source_file FROM ${ks}.ingest_batches`, [], { prepare: true });
  let quarantined = 0;
  for (const r of b.rows.filter((row) => row['source_file'] === 'rejects.csv.gz')) quarantined += await count(`SELECT COUNT(*) AS n FROM ${ks}.quarantine WHERE ingest_batch = ?`, [r['ingest_batch']]);
  assert.ok(quarantined <= 5000, `${quarantined} quarantine rows`);
  // The ratio cap stops such a file after the first thousand records with the default limits.
  await assert.rejects(ingestFileCore(deps(), { path: file }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'TooManyRejects');
    assert.match(err.message, /1000 of 1000 records rejected, over the 0.5 limit/);
    return true;
  });
});

void test('case 11: ingest heartbeats on a timer through a long run of blank lines', async () => {
  const gen = [...generateTracking({ events: 3, seed: 11, badRate: 0 }).lines];
  const file = path.join(tmp, 'blank.csv');
  fs.writeFileSync(file, gen[0] + '\n' + gen[1] + '\n' + '\n'.repeat(15_000_000) + gen[2] + '\n');
  let beats = 0;
  let checkpoints = 0;
  const started = Date.now();
  const res = await ingestFileCore(deps(), { path: file }, {
    limits: { ...DEFAULT_INGEST_LIMITS, heartbeatMs: 100 },
    keepAlive: () => beats++,
    onProgress: () => checkpoints++,
  });
  const ms = Date.now() - started;
  assert.equal(res.written, 2);
  assert.ok(ms > 400, `the run took ${ms} ms, too short to tell`);
  assert.ok(beats >= Math.floor(ms / 100) / 3, `${beats} heartbeats in ${ms} ms (${checkpoints} checkpoints)`);
});

void test('header errors name columns only: a symlink to /etc/passwd does not leak its first line', async () => {
  const link = path.join(tmp, 'passwd.csv');
  fs.symlinkSync('/etc/passwd', link);
  const first = fs.readFileSync('/etc/passwd', 'utf8').split('\n')[0]!;
  await assert.rejects(ingestFileCore(deps(), { path: link }), (err: Error & { type?: string }) => {
    assert.equal(err.type, 'InvalidHeader');
    assert.match(err.message, /lacks essential columns \[create_time, custom_track, job_id, bid, campaign_id, group_id, publisher_id\]/);
    for (const part of first.split(':').filter((p) => p.length > 2)) assert.ok(!err.message.includes(part), `leaks ${part}`);
    return true;
  });
});
