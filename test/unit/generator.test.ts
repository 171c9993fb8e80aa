import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { BAD_KINDS, generateJobs, generateTracking } from '../../lib/domain/generator';
import { mulberry32 } from '../../lib/domain/random';
import { TRACKING_COLUMNS, checkHeader, checkRecord, decodeFields, reasonKind } from '../../lib/domain/tracking';
import { BAD_KIND_REASON } from '../../lib/domain/generator';
import { parse } from 'csv-parse/sync';

function digest(lines: Iterable<string | Buffer>): string {
  const h = crypto.createHash('sha256');
  for (const l of lines) h.update(l).update('\n');
  return h.digest('hex');
}

void test('mulberry32 is deterministic and uniform enough', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 10000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

void test('same seed, same bytes; another seed, other bytes', () => {
  const opts = { events: 2000, seed: 7, badRate: 0.01 };
  assert.equal(digest(generateTracking(opts).lines), digest(generateTracking(opts).lines));
  assert.notEqual(digest(generateTracking(opts).lines), digest(generateTracking({ ...opts, seed: 8 }).lines));
  assert.equal(digest(generateJobs(7)), digest(generateJobs(7)));
});

void test('rows are in the real format and follow the contract distributions', () => {
  const n = 50_000;
  const gen = generateTracking({ events: n, seed: 3, days: 5 });
  const it = gen.lines[Symbol.iterator]();
  const header = String(it.next().value);
  assert.equal(header, TRACKING_COLUMNS.join(','));
  assert.equal(checkHeader(header.split(',')), undefined);
  const tracks = new Map<string, number>();
  const hours = new Set<string>();
  const days = new Set<string>();
  const ids = new Set<string>();
  let noJob = 0;
  let noGroup = 0;
  const bids = new Set<number>();
  for (let r = it.next(); !r.done; r = it.next()) {
    const fields = parse(String(r.value)) as string[][];
    const check = checkRecord(fields[0]!);
    assert.ok(check.ok, String(r.value));
    const row = check.row;
    ids.add(row.createTime);
    hours.add(row.hour.slice(11));
    days.add(row.hour.slice(0, 10));
    const [, , bid, , , , track] = fields[0]!;
    tracks.set(track!, (tracks.get(track!) ?? 0) + 1);
    if (fields[0]![14] === '') noJob++;
    if (fields[0]![12] === '') noGroup++;
    if (bid) {
      assert.match(bid, /^\d+\.\d+$/);
      bids.add(Number(bid));
    }
  }
  const share = (k: string): number => (tracks.get(k) ?? 0) / n;
  assert.equal(ids.size, n, 'create_time is unique');
  assert.ok(Math.abs(share('') - 0.52) < 0.01, `empty ${share('')}`);
  assert.ok(Math.abs(share('click') - 0.32) < 0.01, `click ${share('click')}`);
  assert.ok(Math.abs(share('alive') - 0.12) < 0.01);
  assert.ok(Math.abs(share('conversion') - 0.02) < 0.005);
  assert.ok(Math.abs(share('unqualified') - 0.01) < 0.003);
  assert.ok(share('qualified') > 0 && share('qualified') < 0.01);
  assert.ok(Math.abs(noJob / n - 0.7) < 0.01, `no job ${noJob / n}`);
  assert.ok(noGroup > noJob);
  assert.equal(hours.size, 24);
  assert.equal(days.size, 5);
  assert.ok([...bids].every((b) => b >= 0 && b <= 3 && Number.isInteger(b * 2)));
});

void test('--bad-rate injects every kind at the manifest lines, and ingest validation rejects exactly those', () => {
  const gen = generateTracking({ events: 1000, seed: 11, badRate: 0.02 });
  const lines = [...gen.lines];
  const m = gen.manifest;
  assert.equal(m.badRows, 20);
  assert.equal(m.totalRows, 1000);
  for (const k of BAD_KINDS) assert.equal(m.badByKind[k].length, 4, k);
  const expected = new Map<number, string>();
  for (const k of BAD_KINDS) for (const line of m.badByKind[k]) expected.set(line, BAD_KIND_REASON[k]);
  const got = new Map<number, string>();
  lines.slice(1).forEach((l, i) => {
    const buf = typeof l === 'string' ? Buffer.from(l) : l;
    const records = parse(buf, { encoding: null as unknown as undefined, relax_column_count: true }) as unknown as Buffer[][];
    const { fields, invalidUtf8Column } = decodeFields(records[0]!);
    const check = checkRecord(fields, invalidUtf8Column);
    if (!check.ok) got.set(i + 2, reasonKind(check.reason));
  });
  assert.deepEqual([...got.entries()].sort((a, b) => a[0] - b[0]), [...expected.entries()].sort((a, b) => a[0] - b[0]));
});

void test('job export: 30 columns, a multi-line quoted description, a company for every job', () => {
  const text = [...generateJobs(5)].join('\n') + '\n';
  const rows = parse(text) as string[][];
  assert.equal(rows[0]!.length, 30);
  assert.equal(rows.length - 1, 60);
  assert.ok(rows.slice(1).every((r) => r.length === 30 && /^\d+$/.test(r[27]!)));
  assert.match(rows[1]![7]!, /\n/);
});
