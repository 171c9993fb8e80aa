import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  IDX,
  LAKE_COLUMNS,
  TRACKING_COLUMNS,
  checkHeader,
  checkRecord,
  reasonKind,
  type TrackingRow,
} from '../../lib/domain/tracking';
import { readCsvRecords } from '../../lib/ingest/reader';
import { hourBucket, isTimeUuid, makeTimeUuid, timeUuidMillis } from '../../lib/domain/timeuuid';

const HEADER = TRACKING_COLUMNS.join(',');
const GOOD =
  '40,f6effc90-fea3-11ec-8a1b-47e436f4e7d4,2.0,Chrome 103,4.0,24.0,click,UTF-8,http://x/job,CandidatePortal,' +
  '"{""customEvent"":""click"",""jobId"":98}",2.0,,,98.0,true,1.0,,1366x768,2022-07-08 02:03:04.000,-420.0,' +
  '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",1-abc,,,,,,1.0,1366x625';

function tmpFile(name: string, content: Buffer | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-unit-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

interface Parsed {
  line: number;
  check: ReturnType<typeof checkRecord> | { ok: false; reason: string };
}

async function parseFile(file: string): Promise<{ header: string[]; rows: Parsed[] }> {
  let header: string[] | undefined;
  const rows: Parsed[] = [];
  for await (const rec of readCsvRecords(file)) {
    if (rec.parseError) {
      rows.push({ line: rec.line, check: { ok: false, reason: `unparsable: ${rec.parseError}` } });
      continue;
    }
    const { fields, invalidUtf8Column } = rec;
    if (!header) {
      header = fields;
      continue;
    }
    rows.push({ line: rec.line, check: checkRecord(fields, invalidUtf8Column) });
  }
  return { header: header ?? [], rows };
}

function okRow(p: Parsed | undefined): TrackingRow {
  assert.ok(p, 'row missing');
  assert.ok(p.check.ok, `expected a valid row, got ${p.check.ok ? '' : p.check.reason}`);
  return (p.check as { ok: true; row: TrackingRow }).row;
}

function rejectKind(p: Parsed | undefined): string {
  assert.ok(p && !p.check.ok, 'expected a rejected row');
  return reasonKind((p.check as { reason: string }).reason);
}

void test('header: the 30 expected columns pass; one lacking essential columns names them', () => {
  assert.equal(checkHeader([...TRACKING_COLUMNS]), undefined);
  const msg = checkHeader(['', 'create_time', 'bid']);
  assert.ok(msg);
  assert.match(msg, /lacks essential columns \[custom_track, job_id, campaign_id, group_id, publisher_id\]/);
  assert.match(msg, /it has 3 columns, 3 known/);
});

void test('a valid row is typed: doubles, nulls for empty fields, JSON and commas kept', async () => {
  const { rows } = await parseFile(tmpFile('a.csv', `${HEADER}\n${GOOD}\n`));
  const row = okRow(rows[0]);
  assert.equal(rows[0]!.line, 2);
  assert.equal(row.createTime, 'f6effc90-fea3-11ec-8a1b-47e436f4e7d4');
  assert.equal(row.hour, '2022-07-08T09');
  assert.equal(row.values[0], 40);
  assert.equal(row.values[IDX.bid], 2);
  assert.equal(row.values[IDX.jobId], 98);
  assert.equal(row.values[IDX.groupId], null);
  assert.equal(row.values[IDX.customTrack], 'click');
  assert.equal(row.values[LAKE_COLUMNS.indexOf('ed')], '{"customEvent":"click","jobId":98}');
  assert.match(String(row.values[LAKE_COLUMNS.indexOf('ua')]), /KHTML, like Gecko/);
  assert.equal(row.values[LAKE_COLUMNS.indexOf('utm_source')], null);
});

void test('tolerated: BOM, CRLF, no final newline, blank lines, quoted newlines, quotes and commas', async () => {
  const multiline = GOOD.replace('"{""customEvent"":""click"",""jobId"":98}"', '"{""a"":""x,\r\ny""}"').replace('40,f6effc90', '41,f6effc91');
  const content = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`${HEADER}\r\n${GOOD}\r\n\r\n${multiline}\r\n${GOOD.replace('40,f6effc90', '42,f6effc92')}`),
  ]);
  const { header, rows } = await parseFile(tmpFile('b.csv', content));
  assert.equal(checkHeader(header), undefined);
  assert.equal(rows.length, 3);
  rows.forEach(okRow);
  assert.equal(okRow(rows[1]).values[LAKE_COLUMNS.indexOf('ed')], '{"a":"x,\r\ny"}');
  // A record's line is the physical line it ends on.
  assert.deepEqual(
    rows.map((r) => r.line),
    [2, 5, 6],
  );
  assert.equal(okRow(rows[2]).values[LAKE_COLUMNS.indexOf('vp')], '1366x625');
});

void test('rejected: wrong column count', async () => {
  const { rows } = await parseFile(tmpFile('c.csv', `${HEADER}\n${GOOD},extra\n1,2,3\n`));
  assert.equal(rejectKind(rows[0]), 'column_count');
  assert.equal(rejectKind(rows[1]), 'column_count');
});

void test('rejected: non-numeric value in a numeric column', async () => {
  const bad = GOOD.replace('40,f6effc90-fea3-11ec-8a1b-47e436f4e7d4,2.0,', '40,f6effc90-fea3-11ec-8a1b-47e436f4e7d4,abc,');
  const { rows } = await parseFile(tmpFile('d.csv', `${HEADER}\n${bad}\n${GOOD.replace(',98.0,', ',0x10,')}\n`));
  assert.equal(rejectKind(rows[0]), 'invalid_number');
  assert.match((rows[0]!.check as { reason: string }).reason, /column bid/);
  assert.equal(rejectKind(rows[1]), 'invalid_number');
});

void test('rejected: create_time that is not a time UUID, and a version-4 UUID', async () => {
  const notUuid = GOOD.replace('f6effc90-fea3-11ec-8a1b-47e436f4e7d4', 'hello');
  const v4 = GOOD.replace('f6effc90-fea3-11ec-8a1b-47e436f4e7d4', 'f6effc90-fea3-41ec-8a1b-47e436f4e7d4');
  const { rows } = await parseFile(tmpFile('e.csv', `${HEADER}\n${notUuid}\n${v4}\n`));
  assert.equal(rejectKind(rows[0]), 'invalid_create_time');
  assert.equal(rejectKind(rows[1]), 'invalid_create_time');
});

void test('rejected: invalid UTF-8 bytes, while a genuine U+FFFD is accepted', async () => {
  const [before, after] = GOOD.split('Chrome 103') as [string, string];
  const content = Buffer.concat([
    Buffer.from(`${HEADER}\n${before}`),
    Buffer.from([0x43, 0xff, 0xfe]),
    Buffer.from(`${after}\n${before}\uFFFD${after}\n`),
  ]);
  const { rows } = await parseFile(tmpFile('f.csv', content));
  assert.equal(rejectKind(rows[0]), 'invalid_utf8');
  assert.equal(okRow(rows[1]).values[LAKE_COLUMNS.indexOf('bn')], '\uFFFD');
});

void test('a truncated last line inside an open quote is reported, not thrown', async () => {
  const { rows } = await parseFile(tmpFile('g.csv', `${HEADER}\n${GOOD}\n41,f6effc91-fea3-11ec-8a1b-47e436f4e7d4,,"Chrome`));
  okRow(rows[0]);
  assert.equal(rows.length, 2);
  assert.equal(rejectKind(rows[1]), 'unparsable');
});

void test('timeuuid: makeTimeUuid round-trips and hourBucket is UTC', () => {
  const ms = Date.UTC(2022, 6, 8, 9, 59, 59, 999);
  const u = makeTimeUuid(ms, 1234, 42, 'abcdef012345');
  assert.ok(isTimeUuid(u));
  assert.equal(timeUuidMillis(u), ms);
  assert.equal(hourBucket(u), '2022-07-08T09');
  assert.equal(hourBucket('5af328a0-0d60-11ed-90e9-7cd44fe229db'), '2022-07-27T03');
  assert.ok(!isTimeUuid('5af328a0-0d60-41ed-90e9-7cd44fe229db'));
});

void test('fastHourBucket agrees with hourBucket, including around hour boundaries and before 1970', async () => {
  const { fastHourBucket } = await import('../../lib/domain/tracking');
  const times = [Date.UTC(2022, 6, 8, 9, 59, 59, 999), Date.UTC(2022, 6, 8, 10), Date.UTC(1969, 11, 31, 23, 30), Date.UTC(2031, 0, 1)];
  for (const ms of times) {
    for (const sub of [0, 1, 9999]) {
      const u = makeTimeUuid(ms, sub, 1, '1');
      assert.equal(fastHourBucket(u), hourBucket(u), u);
    }
  }
  for (let i = 0; i < 2000; i++) {
    const u = makeTimeUuid(Date.UTC(2020, 0, 1) + Math.floor(Math.random() * 4e11), Math.floor(Math.random() * 10000), 1, '1');
    assert.equal(fastHourBucket(u), hourBucket(u), u);
  }
});

void test('timeUuidMillis without BigInt is exact over the whole 60-bit range after 1970', () => {
  // Reference: the RFC 4122 layout read with BigInt, independently of lib/domain/timeuuid.
  const reference = (u: string): number => {
    const ticks = BigInt(`0x${u.slice(15, 18)}${u.slice(9, 13)}${u.slice(0, 8)}`);
    return Number((ticks - 122192928000000000n) / 10000n);
  };
  const hex = (n: bigint, width: number) => n.toString(16).padStart(width, '0');
  const uuidOfTicks = (t: bigint) =>
    `${hex(t & 0xffffffffn, 8)}-${hex((t >> 32n) & 0xffffn, 4)}-1${hex(t >> 48n, 3)}-8000-000000000000`;
  const cases = [122192928000000000n, 122192928000009999n, 122192928000010000n, (1n << 60n) - 1n, 0x1ed0d605af328a0n];
  for (let i = 0; i < 5000; i++) {
    const r = BigInt(Math.floor(Math.random() * 2 ** 30)) * (1n << 30n) + BigInt(Math.floor(Math.random() * 2 ** 30));
    const t = 122192928000000000n + (r % ((1n << 60n) - 122192928000000000n));
    cases.push(t);
  }
  for (const t of cases) {
    const u = uuidOfTicks(t);
    assert.equal(timeUuidMillis(u), reference(u), u);
  }
  assert.throws(() => timeUuidMillis('5af328a0-0d60-41ed-90e9-7cd44fe229db'), /not a version-1 time UUID/);
});
