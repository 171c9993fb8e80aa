import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFields } from '../../lib/ingest/fields';
import type { Piece } from '../../lib/ingest/splitter';

const rec = (line: number, raw: string, fieldCount: number): Piece => ({ kind: 'record', line, fieldCount, fields: [], raw });

void test('csv-parse reads framed records: quotes, escaped quotes, embedded newlines and a quote inside an unquoted field', () => {
  const pieces: Piece[] = [rec(2, 'a,"b,c","d""e"', 3), rec(4, 'x,"m\nn",o"p', 3), rec(5, '"",,', 3)];
  parseFields(pieces);
  assert.deepEqual(
    pieces.map((p) => (p.kind === 'record' ? p.fields : p.reason)),
    [
      ['a', 'b,c', 'd"e'],
      ['x', 'm\nn', 'o"p'],
      ['', '', ''],
    ],
  );
});

void test('a record whose fields csv-parse counts differently from the framer is rejected alone; its neighbours parse', () => {
  const reject: Piece = { kind: 'reject', firstLine: 3, line: 3, reason: 'record_too_large: x, line 3', raw: 'x' };
  // The framer claims four fields where the text has two: the batch cannot be matched one to one.
  const pieces: Piece[] = [rec(2, 'a,b', 2), reject, rec(5, 'c,"d\ne"', 4), rec(6, 'f,g', 2)];
  parseFields(pieces);
  assert.deepEqual(pieces[0], { ...rec(2, 'a,b', 2), fields: ['a', 'b'] });
  assert.equal(pieces[1], reject);
  assert.deepEqual(pieces[2], {
    kind: 'reject',
    firstLine: 4,
    line: 5,
    reason: 'unparsable: csv-parse read 2 fields where the framer counted 4, lines 4-5',
    raw: 'c,"d\ne"',
  });
  assert.deepEqual(pieces[3], { ...rec(6, 'f,g', 2), fields: ['f', 'g'] });
});
