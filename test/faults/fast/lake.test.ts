import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { generateJobs, generateTracking } from '../../../lib/domain/generator';
import { ingestFileCore } from '../../../lib/ingest/ingest';
import {
  assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, openFaultStack, type FaultStack,
} from '../../support/faults';
import { expectedFrom, judge, readCsv } from '../../support/reference';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('lake');
});
afterEach(async () => {
  await s?.close();
});

function writeLines(file: string, lines: Array<string | Buffer>): void {
  fs.writeFileSync(file, Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, Buffer.from('\n')])));
}

void test('6. the same file dropped twice and two exports overlapping by half: each event counted once', async () => {
  const gen = generateTracking({ events: 6000, seed: 61, badRate: 0.01 });
  const all = [...gen.lines];
  const [header, ...rows] = all;
  const a = path.join(s.dir, 'export-a.csv');
  const again = path.join(s.dir, 'export-a-again.csv');
  const b = path.join(s.dir, 'export-b.csv');
  writeLines(a, [header!, ...rows.slice(0, 4000)]);
  fs.copyFileSync(a, again);
  writeLines(b, [header!, ...rows.slice(2000)]);
  const jobs = path.join(s.dir, 'job.csv');
  fs.writeFileSync(jobs, [...generateJobs(61)].join('\n') + '\n');
  await loadJobs(s, jobs);

  const exp = expectedFrom([a, again, b], jobs);
  await ingestAndPublishDirect(s, [a, again, b]);
  const ks = s.config.cassandra.keyspace;
  const batches = await s.deps.cassandra.execute(`SELECT ingest_batch, rows_read, written, already_present FROM ${ks}.ingest_batches`);
  assert.equal(batches.rowLength, 2, 'the second copy of a file is no batch of its own');
  const written = batches.rows.reduce((sum, r) => sum + Number(r['written']), 0);
  assert.equal(written, exp.events);
  await consumeUntilCaughtUp(s);
  // The copy of A is not read at all, so its rows are not "in".
  const r = await assertExact(s, '6 duplicate file + half-overlapping exports', exp, { eventsIn: 4000 + 4000 + 4000 });
  assert.ok(r.totals.counted > 500);
});

/** One sample row split into fields, to derive malformed variants from. */
function sampleFields(n: number): string[] {
  const recs = readCsv(fs.readFileSync(path.join(FIXTURES, 'tracking_sample.csv')));
  return recs[n]!.fields.map((f) => f.toString('utf8'));
}

function csvLine(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(',');
}

const COLS = readCsv(fs.readFileSync(path.join(FIXTURES, 'tracking_sample.csv')))[0]!.fields.map(String);
const ix = (c: string) => COLS.indexOf(c);

let uuidSeq = 0;
/** A fresh v1 UUID on 2022-07-08 09:xx UTC, so every good row is a distinct event in one known hour. */
function freshUuid(): string {
  uuidSeq += 1;
  const ticks = (BigInt(Date.UTC(2022, 6, 8, 9, uuidSeq % 60)) * 10000n) + 0x01b21dd213814000n + BigInt(uuidSeq);
  const hex = ticks.toString(16).padStart(15, '0');
  return `${hex.slice(7)}-${hex.slice(3, 7)}-1${hex.slice(0, 3)}-8${(uuidSeq % 4096).toString(16).padStart(3, '0')}-0a0b0c0d0e0f`;
}

/** A valid click of job 98 (publisher 1, campaign 4): the rows around every bad one. */
function goodRow(bid: string): string[] {
  const f = sampleFields(1);
  f[ix('create_time')] = freshUuid();
  f[ix('custom_track')] = 'click';
  f[ix('job_id')] = '98.0';
  f[ix('bid')] = bid;
  f[ix('publisher_id')] = '1.0';
  f[ix('campaign_id')] = '4.0';
  f[ix('group_id')] = '';
  return f;
}

function withField(col: string, value: string): string {
  const f = goodRow('1.0');
  f[ix(col)] = value;
  return csvLine(f);
}

void test('10. a malformed-CSV corpus: every bad row quarantined with its line and reason, every good row ingested', async () => {
  const bad: Array<{ name: string; reason: string; line: string | Buffer }> = [
    { name: 'too few columns', reason: 'column_count', line: csvLine(goodRow('1.0').slice(0, 20)) },
    { name: 'too many columns', reason: 'column_count', line: csvLine([...goodRow('1.0'), 'extra']) },
    { name: 'one column short (trailing comma lost)', reason: 'column_count', line: csvLine(goodRow('1.0').slice(0, 29)) },
    { name: 'non-numeric bid', reason: 'invalid_number', line: withField('bid', 'abc') },
    { name: 'non-numeric job_id', reason: 'invalid_number', line: withField('job_id', '98x') },
    { name: 'non-numeric campaign_id', reason: 'invalid_number', line: withField('campaign_id', 'four') },
    { name: 'non-numeric publisher_id', reason: 'invalid_number', line: withField('publisher_id', '1,0') },
    { name: 'non-numeric group_id', reason: 'invalid_number', line: withField('group_id', '--1') },
    { name: 'non-numeric tz', reason: 'invalid_number', line: withField('tz', 'UTC') },
    { name: 'non-numeric v', reason: 'invalid_number', line: withField('v', '1.0.0') },
    { name: 'non-numeric ev', reason: 'invalid_number', line: withField('ev', 'true') },
    { name: 'non-numeric cd', reason: 'invalid_number', line: withField('cd', '24bit') },
    { name: 'NaN bid', reason: 'invalid_number', line: withField('bid', 'NaN') },
    { name: 'Infinity bid', reason: 'invalid_number', line: withField('bid', 'Infinity') },
    { name: 'hex job_id', reason: 'invalid_number', line: withField('job_id', '0x62') },
    { name: 'non-integer row number', reason: 'invalid_number', line: withField('', 'row7') },
    { name: 'version-4 UUID', reason: 'invalid_create_time', line: withField('create_time', '3b241101-e2bb-4255-8caf-4136c566a962') },
    { name: 'not a UUID', reason: 'invalid_create_time', line: withField('create_time', '2022-07-08 09:00:00') },
    { name: 'empty create_time', reason: 'invalid_create_time', line: withField('create_time', '') },
    { name: 'UUID without dashes', reason: 'invalid_create_time', line: withField('create_time', freshUuid().replaceAll('-', '')) },
    {
      name: 'stray quote inside an unquoted create_time',
      reason: 'invalid_create_time',
      line: (() => {
        const f = goodRow('1.0');
        const u = f[ix('create_time')]!;
        f[ix('create_time')] = 'PLACEHOLDER';
        return csvLine(f).replace('PLACEHOLDER', `${u.slice(0, 12)}"${u.slice(12)}`);
      })(),
    },
    ...(['bn', 'ua', 'dl'] as const).map((col) => {
      const f = goodRow('1.0');
      const at = ix(col);
      const before = Buffer.from(csvLine(f.slice(0, at)) + ',');
      const afterText = Buffer.from(',' + csvLine(f.slice(at + 1)));
      return { name: `invalid UTF-8 in ${col}`, reason: 'invalid_utf8', line: Buffer.concat([before, Buffer.from([0x41, 0xc3, 0x28, 0x42]), afterText]) };
    }),
    {
      name: 'truncated UTF-8 sequence in custom_track',
      reason: 'invalid_utf8',
      line: Buffer.concat([Buffer.from(csvLine(goodRow('1.0').slice(0, ix('custom_track'))) + ',click'), Buffer.from([0xe2, 0x82]), Buffer.from(',' + csvLine(goodRow('1.0').slice(ix('custom_track') + 1)))]),
    },
  ];
  assert.ok(new Set(bad.map((b) => b.name)).size >= 20);

  // Good rows around every bad one; a CRLF line, a quoted field with a line break and a BOM are tolerated.
  const header = Buffer.from('\ufeff' + csvLine(COLS));
  const lines: Array<string | Buffer> = [header];
  const expectedRejects: Array<{ line: number; reason: string; name: string }> = [];
  const bids = ['0.5', '1.25', '0.1', '2.0', '3'];
  let goods = 0;
  const good = () => {
    goods += 1;
    return csvLine(goodRow(bids[goods % bids.length]!));
  };
  lines.push(good());
  for (const b of bad) {
    lines.push(good());
    lines.push(b.line);
    expectedRejects.push({ line: lines.length, reason: b.reason, name: b.name });
    lines.push(good());
  }
  const multi = goodRow('0.5');
  multi[ix('ua')] = 'Mozilla/5.0\n(line break inside quotes)';
  lines.push(csvLine(multi) + '\r');
  goods += 1;
  const stray = goodRow('2.0');
  stray[ix('bn')] = 'PLACEHOLDER';
  lines.push(csvLine(stray).replace('PLACEHOLDER', 'Chrome "103'));
  goods += 1;
  lines.push(good());
  // A truncated last line: its quote never closes, and there is no final newline.
  const truncated = csvLine(goodRow('1.0')).replace(/,"Mozilla[^"]*"/, ',"Mozilla/5.0 (Windows NT');
  lines.push(truncated);
  const file = path.join(s.dir, 'malformed.csv');
  const bytes = Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, Buffer.from('\n')]));
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1));
  // The quoted line break puts every later record one physical line further.
  const lastLine = lines.length + 1;
  expectedRejects.push({ line: lastLine, reason: 'unparsable', name: 'quote still open at end of file' });

  // The reference agrees with the hand labels before the product is asked.
  const recs = readCsv(fs.readFileSync(file)).slice(1);
  const refRejects = recs.map((r) => ({ line: r.line, v: judge(r) })).filter((x) => !x.v.ok);
  assert.deepEqual(
    refRejects.map((x) => [x.line, x.v.ok ? '' : x.v.kind]),
    expectedRejects.map((x) => [x.line, x.reason]),
  );

  const ks = s.config.cassandra.keyspace;
  const summary = await ingestFileCore({ cassandra: s.deps.cassandra, keyspace: ks }, { path: file });
  assert.equal(summary.rejected, bad.length + 1);
  assert.equal(summary.written, goods);
  const q = await s.deps.cassandra.execute(
    `SELECT line_number, reason FROM ${ks}.quarantine WHERE ingest_batch = ? AND stage = 'ingest'`, [summary.ingestBatch], { prepare: true },
  );
  const got = q.rows.map((r) => ({ line: Number(r['line_number']), reason: String(r['reason']).split(':')[0] }));
  assert.deepEqual(
    got,
    expectedRejects.map((x) => ({ line: x.line, reason: x.reason })),
    'quarantine lines and reasons',
  );

  await ingestAndPublishDirect(s, []);
  await consumeUntilCaughtUp(s);
  const exp = expectedFrom([file]);
  assert.equal(exp.counted, goods);
  await assertExact(s, '10 malformed-CSV corpus', exp);
});
