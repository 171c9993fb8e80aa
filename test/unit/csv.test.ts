import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { readCsvRecords, MAX_RECORD_BYTES, type RawRecord } from '../../lib/ingest/reader';

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

void test('an unclosed quote mid-file fails the file instead of buffering the rest of it', async () => {
  const content = 'a,b\n1,"open\n' + 'x,y\n'.repeat(Math.ceil(MAX_RECORD_BYTES / 4) + 10);
  await assert.rejects(read(tmpFile('g.csv', content)), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'FileUnparsable');
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, /unclosed quote/);
    return true;
  });
});
