import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Pool } from 'mysql2/promise';
import { isolatedConfig } from '../support/env';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { migrateMysql, revokeMysqlApp } from '../../lib/migrate/mysql';
import { loadJobsCore } from '../../lib/ingest/jobCatalogueLoader';
import { JOB_COLUMNS } from '../../lib/domain/jobRecord';
import { DEFAULT_INGEST_LIMITS } from '../../lib/ingest/ingest';

const cfg = isolatedConfig('jobshostile');
let admin: Pool;
let pool: Pool;
let tmp: string;

before(async () => {
  admin = createMysqlAdminPool(cfg.mysql);
  await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
  pool = createMysqlPool(cfg.mysql);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-jobs-'));
});

after(async () => {
  await pool?.end();
  if (admin) await revokeMysqlApp(admin, cfg.mysql.database, cfg.mysql.user).catch(() => undefined);
  await admin?.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
  await admin?.end();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function jobLine(id: number, over: Partial<Record<(typeof JOB_COLUMNS)[number], string>> = {}): string {
  return JOB_COLUMNS.map((c) => (c === 'id' ? String(id) : c === 'company_id' ? '3' : c === 'title' ? `Job ${id}` : (over[c] ?? ''))).map((v, i) => {
    const o = over[JOB_COLUMNS[i]!];
    const val = o ?? v;
    return /[",\n]/.test(val) ? `"${val.replaceAll('"', '""')}"` : val;
  }).join(',');
}

async function ids(): Promise<number[]> {
  const [rows] = await pool.query('SELECT id FROM job ORDER BY id');
  return (rows as Array<{ id: number }>).map((r) => Number(r.id));
}

void test('case 10: one over-long or MySQL-refused field rejects its row, never the 500-row upsert', async () => {
  await pool.query('DELETE FROM job');
  const lines = [JOB_COLUMNS.join(',')];
  for (let id = 1; id <= 500; id++) {
    if (id === 17) lines.push(jobLine(id, { title: 'T'.repeat(2000) }));
    else if (id === 18) lines.push(jobLine(id, { radius_unit: 'km'.repeat(40) }));
    else if (id === 19) lines.push(jobLine(id, { created_date: '2022-02-30 10:00:00' }));
    else lines.push(jobLine(id));
  }
  const file = path.join(tmp, 'long.csv');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const rejects: string[] = [];
  const res = await loadJobsCore(pool, { path: file }, { log: (_m, f) => rejects.push(`${String(f['line'])} ${String(f['reason'])}`) });
  assert.equal(res.rejected, 3, rejects.join('; '));
  assert.equal(res.upserted, 497);
  assert.match(rejects.join(';'), /field_too_long: title has 2000 chars, the column holds 1024/);
  assert.match(rejects.join(';'), /field_too_long: radius_unit has 80 chars/);
  assert.match(rejects.join(';'), /refused by MySQL/);
  const got = await ids();
  assert.equal(got.length, 497);
  assert.ok(!got.includes(17) && !got.includes(19) && got.includes(20));
});

void test('case 10: an unclosed quote in a .gz job export is one rejected span; the rows after it load', async () => {
  await pool.query('DELETE FROM job');
  const lines = [JOB_COLUMNS.join(',')];
  for (let id = 1; id <= 50; id++) lines.push(jobLine(id));
  lines.push(`51,"never closed,${'x'.repeat(100)}`);
  // Enough text after the open quote that the old loader buffered it all into one record.
  for (let i = 0; i < 40_000; i++) lines.push(`description line ${i} without the right shape`);
  for (let id = 52; id <= 60; id++) lines.push(jobLine(id));
  const file = path.join(tmp, 'open.csv.gz');
  fs.writeFileSync(file, zlib.gzipSync(lines.join('\n') + '\n'));
  const rejects: string[] = [];
  const res = await loadJobsCore(pool, { path: file }, { log: (_m, f) => rejects.push(String(f['reason'])) });
  assert.equal(res.upserted, 59);
  assert.equal(res.rejected, 1, rejects.join('; '));
  assert.match(rejects[0]!, /^unparsable: quote still open after \d+ bytes, lines 52-40052$/);
  assert.deepEqual((await ids()).slice(-3), [58, 59, 60]);
});

void test('case 10: a corrupt .gz fails the load without retry, as ingest does, and does not crash', async () => {
  const good = zlib.gzipSync(`${JOB_COLUMNS.join(',')}\n${jobLine(1)}\n`.repeat(200));
  const file = path.join(tmp, 'corrupt.csv.gz');
  fs.writeFileSync(file, Buffer.concat([good.subarray(0, 60), Buffer.alloc(200, 7)]));
  await assert.rejects(loadJobsCore(pool, { path: file }, { log: () => undefined }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'FileUnreadable');
    assert.equal(err.nonRetryable, true);
    return true;
  });
});

void test('the job loader heartbeats on a timer through a long run of blank lines', async () => {
  const file = path.join(tmp, 'blank-jobs.csv');
  fs.writeFileSync(file, `${JOB_COLUMNS.join(',')}\n${'\n'.repeat(10_000_000)}${jobLine(1)}\n`);
  let beats = 0;
  const started = Date.now();
  const res = await loadJobsCore(pool, { path: file }, {
    limits: { ...DEFAULT_INGEST_LIMITS, heartbeatMs: 100 },
    log: () => undefined,
    onProgress: () => beats++,
  });
  const ms = Date.now() - started;
  assert.equal(res.upserted, 1);
  assert.ok(ms > 400, `the run took ${ms} ms, too short to tell`);
  assert.ok(beats >= Math.floor(ms / 100) / 3, `${beats} heartbeats in ${ms} ms`);
});
