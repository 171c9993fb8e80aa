import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { readCsvRecords, type RawRecord } from '../../lib/ingest/reader';

function tmpFile(name: string, content: Buffer | string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-csv-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function read(file: string): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const rec of readCsvRecords(file)) out.push(rec);
  return out;
}

void test('line numbers are physical lines, whatever the mix of LF, CRLF, blank lines and quoted breaks', async () => {
  const content = 'h1,h2\r\na,"x\r\ny"\n\n\r\nb,"p\nq\nr"\r\nc,d';
  const recs = await read(tmpFile('a.csv', content));
  assert.deepEqual(
    recs.map((r) => [r.line, r.fields]),
    [
      [1, ['h1', 'h2']],
      [3, ['a', 'x\r\ny']],
      [8, ['b', 'p\nq\nr']],
      [9, ['c', 'd']],
    ],
  );
  assert.deepEqual(
    recs.map((r) => r.raw),
    ['h1,h2', 'a,"x\r\ny"', 'b,"p\nq\nr"', 'c,d'],
  );
});

void test('raw keeps the record as written, with doubled quotes and a wrong column count', async () => {
  const recs = await read(tmpFile('b.csv', 'a,b,c\n1,"{""k"":""v,w""}",3,4\n'));
  assert.deepEqual(recs[1]!.fields, ['1', '{"k":"v,w"}', '3', '4']);
  assert.equal(recs[1]!.raw, '1,"{""k"":""v,w""}",3,4');
});

void test('UTF-8: multi-byte text passes, an invalid byte names its column, a genuine U+FFFD is fine', async () => {
  const content = Buffer.concat([
    Buffer.from('a,b,c\nx,"é, ü",\uFFFD\n1,'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from(',3\n'),
  ]);
  const recs = await read(tmpFile('c.csv', content));
  assert.deepEqual(recs[1]!.fields, ['x', 'é, ü', '\uFFFD']);
  assert.equal(recs[1]!.invalidUtf8Column, undefined);
  assert.equal(recs[1]!.raw, 'x,"é, ü",\uFFFD');
  assert.equal(recs[2]!.invalidUtf8Column, 1);
});

void test('.csv.gz with a BOM reads like the plain file', async () => {
  const plain = '\uFEFFa,b\n1,2\n3,"4\n5"\n';
  const recs = await read(tmpFile('d.csv.gz', zlib.gzipSync(Buffer.from(plain))));
  assert.deepEqual(
    recs.map((r) => [r.line, r.fields]),
    [
      [1, ['a', 'b']],
      [2, ['1', '2']],
      [4, ['3', '4\n5']],
    ],
  );
});

void test('a corrupt .gz fails without retry', async () => {
  const file = tmpFile('e.csv.gz', Buffer.concat([zlib.gzipSync(Buffer.from('a,b\n'.repeat(1000))).subarray(0, 40), Buffer.alloc(40, 7)]));
  await assert.rejects(read(file), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'FileUnreadable');
    assert.equal(err.nonRetryable, true);
    return true;
  });
});

void test('an unclosed quote at the end is one unparsable record on the line it ends on', async () => {
  const recs = await read(tmpFile('f.csv', 'a,b\n1,2\n3,"open\nstill\n'));
  assert.equal(recs.length, 3);
  assert.deepEqual(recs[1]!.fields, ['1', '2']);
  assert.match(recs[2]!.parseError ?? '', /quote not closed/);
  assert.equal(recs[2]!.line, 5);
  assert.match(recs[2]!.raw, /^3,"open/);
});

void test('case 5: a record over the byte limit is quarantined as record_too_large and reading goes on', async () => {
  const limits = { maxRecordBytes: 1024, maxRecordFields: 50, maxDecompressedBytes: 1 << 30 };
  const big = 'x'.repeat(5000);
  const content = `a,b\n1,2\n3,${big}\n4,"${big}"\n5,${',6'.repeat(60)}\n7,8\n`;
  const recs: RawRecord[] = [];
  for await (const r of readCsvRecords(tmpFile('g.csv', content), { limits })) recs.push(r);
  assert.deepEqual(recs.map((r) => [r.line, r.parseError?.split(':')[0] ?? r.fields.join('|')]), [
    [1, 'a|b'],
    [2, '1|2'],
    [3, 'record_too_large'],
    [4, 'record_too_large'],
    [5, 'record_too_large'],
    [6, '7|8'],
  ]);
  assert.match(recs[2]!.parseError!, /5002 bytes, over the 1024-byte limit, line 3$/);
  assert.match(recs[4]!.parseError!, /more than 50 fields, line 5$/);
  assert.ok(recs[2]!.raw.length <= 200);
});

void test('an unclosed quote mid-file is one unparsable span with its first and last line; reading resumes at the next good record', async () => {
  const limits = { maxRecordBytes: 1024, maxRecordFields: 50, maxDecompressedBytes: 1 << 30 };
  // Short span: the quote is found open at EOF, then the text is searched for the next well-formed record.
  const short = 'a,b\n1,2\n3,"open\nstill,\n"\n4,5\n';
  let recs = await read(tmpFile('h.csv', short));
  assert.deepEqual(recs.map((r) => [r.line, r.parseError ?? r.fields.join('|')]), [
    [1, 'a|b'],
    [2, '1|2'],
    [5, '3|open\nstill,\n'],
    [6, '4|5'],
  ], 'a quote closed later is a (multi-line) record');
  recs = [];
  const content = 'a,b\n1,"open\n' + 'junk line without a comma\n'.repeat(200) + '8,9\n10,11\n';
  for await (const r of readCsvRecords(tmpFile('i.csv', content), { limits })) recs.push(r);
  assert.deepEqual(recs.map((r) => [r.line, r.parseError ?? r.fields.join('|')]), [
    [1, 'a|b'],
    [202, 'unparsable: quote still open after 5208 bytes, lines 2-202'],
    [203, '8|9'],
    [204, '10|11'],
  ]);
  recs = await read(tmpFile('j.csv', 'a,b\n1,"open\nno comma\n8,9\n'));
  assert.deepEqual(recs.map((r) => [r.line, r.parseError ?? r.fields.join('|')]), [
    [1, 'a|b'],
    [3, 'unparsable: quote not closed, lines 2-3'],
    [4, '8|9'],
  ]);
});

void test('a closing quote followed by data is unparsable, the record ends at its line', async () => {
  const recs = await read(tmpFile('k.csv', 'a,b\n1,"x"y\n2,3\n'));
  assert.deepEqual(recs.map((r) => [r.line, r.parseError ?? r.fields.join('|')]), [
    [1, 'a|b'],
    [2, 'unparsable: a closing quote is followed by data, line 2'],
    [3, '2|3'],
  ]);
});

void test('the decompressed size is capped: a small .gz that expands past the limit fails the file with one line', async () => {
  const limits = { maxRecordBytes: 1 << 20, maxRecordFields: 1000, maxDecompressedBytes: 1 << 20 };
  const file = tmpFile('bomb.csv.gz', zlib.gzipSync(Buffer.from('a,b\n' + '1,2\n'.repeat(1 << 20))));
  await assert.rejects(
    (async () => {
      for await (const r of readCsvRecords(file, { limits })) void r;
    })(),
    (err: Error & { type?: string; nonRetryable?: boolean }) => {
      assert.equal(err.type, 'FileTooLarge');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /more than 1048576 bytes after decompression/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    },
  );
});

const READ_ALL = `
const { readCsvRecords } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'lib', 'ingest', 'reader.ts'))});
(async () => {
  const kinds = {};
  for await (const r of readCsvRecords(process.argv[1])) {
    const k = r.parseError ? r.parseError.split(':')[0] : 'record';
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify({ kinds, rssMb: Math.round(process.memoryUsage().rss / 1048576) }));
})();
`;

/** Reads a file in a child with a 128 MB heap (half the worker's), as the worker would. */
function readInChild(file: string): { kinds: Record<string, number>; rssMb: number } {
  const r = spawnSync(process.execPath, ['--max-old-space-size=128', '--import', 'tsx', '-e', READ_ALL, file], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `child failed (${r.signal ?? r.status}): ${r.stderr.slice(-800)}`);
  return JSON.parse(r.stdout) as { kinds: Record<string, number>; rssMb: number };
}

void test('case 9: a 30 MB line of commas and a small .gz of commas are quarantined within a 128 MB heap', () => {
  const commas = Buffer.alloc(30 << 20, ',');
  const plain = tmpFile('commas.csv', Buffer.concat([Buffer.from('a,b\n1,2\n'), commas, Buffer.from('\n3,4\n')]));
  const a = readInChild(plain);
  assert.deepEqual(a.kinds, { record: 3, record_too_large: 1 });
  assert.ok(a.rssMb < 300, `rss ${a.rssMb} MB`);
  const gz = zlib.gzipSync(Buffer.concat([Buffer.from('a,b\n'), Buffer.alloc(200 << 20, ',')]), { level: 9 });
  assert.ok(gz.length < 300_000, `gz is ${gz.length} bytes`);
  const b = readInChild(tmpFile('commas.csv.gz', gz));
  assert.deepEqual(b.kinds, { record: 1, record_too_large: 1 });
  assert.ok(b.rssMb < 300, `rss ${b.rssMb} MB`);
});
