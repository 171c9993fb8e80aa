import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { JOB_COLUMNS, checkJobHeader, checkJobRecord } from '../../lib/domain/jobRecord';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'job_sample.csv');

void test('job fixture parses: 42 rows of 30 columns, multi-line descriptions intact', () => {
  const rows = parse(fs.readFileSync(FIXTURE), { bom: true }) as string[][];
  assert.equal(checkJobHeader(rows[0]!), undefined);
  const data = rows.slice(1);
  assert.equal(data.length, 42);
  const checks = data.map((r) => checkJobRecord(r));
  assert.ok(checks.every((c) => c.ok));
  const byId = new Map(checks.map((c) => [(c as { ok: true; row: { id: number } }).row.id, c]));
  const j98 = byId.get(98) as { ok: true; row: Record<string, unknown> };
  assert.equal(j98.row['company_id'], 1);
  assert.equal(j98.row['campaign_id'], 4);
  assert.equal(j98.row['group_id'], null);
  assert.equal(j98.row['created_date'], '2022-04-29 08:34:50.481000');
  const multi = data.filter((r) => r[7]!.includes('\n'));
  assert.ok(multi.length > 0, 'the sample has multi-line descriptions');
});

void test('job rows: bad id, bad integer, wrong column count are rejected with a reason', () => {
  const good: string[] = JOB_COLUMNS.map((c) => (c === 'id' ? '7' : c === 'company_id' ? '3.0' : ''));
  const ok = checkJobRecord(good);
  assert.ok(ok.ok);
  assert.equal(ok.row.company_id, 3);
  const badId = [...good];
  badId[0] = 'x7';
  const r1 = checkJobRecord(badId);
  assert.ok(!r1.ok && r1.reason.startsWith('invalid_id'));
  const emptyId = [...good];
  emptyId[0] = '';
  assert.ok(!checkJobRecord(emptyId).ok);
  const badCompany = [...good];
  badCompany[27] = 'acme';
  const r2 = checkJobRecord(badCompany);
  assert.ok(!r2.ok && r2.reason.includes('company_id'));
  assert.ok(!checkJobRecord(good.slice(1)).ok);
  assert.match(checkJobHeader(['id', 'title']) ?? '', /expected 30 columns.*found 2 columns \[id,title\]/);
});
