import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as csvParse } from 'csv-parse/sync';
import { parseFields, splitPlain } from '../../lib/ingest/fields';
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

void test('splitPlain reads what csv-parse reads on every framed record it accepts, and leaves the rest to csv-parse', () => {
  // Fields built the way a framer-accepted record can hold them; csv-parse (an independent parser) is the oracle.
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const anyChars = ['a', 'b', ' ', ',', '"', '\n', '\r', '\u00e9', '{', ':'];
  const plainChars = ['a', 'b', ' ', '\u00e9', '{', ':', '.', '-'];
  const text = (alphabet: string[]): string => Array.from({ length: rand(6) }, () => alphabet[rand(alphabet.length)]).join('');
  const field = (): string => {
    const kind = rand(4);
    if (kind === 0) return `"${text(anyChars).replaceAll('"', '""')}"`;
    // A quote or CR inside an unquoted field is data to csv-parse; splitPlain hands such records over.
    if (kind === 1 && rand(5) === 0) return `${text(plainChars)}${rand(2) ? '"' : '\r'}${text(plainChars)}`;
    return text(plainChars);
  };
  let plain = 0;
  for (let r = 0; r < 3000; r++) {
    const count = 1 + rand(8);
    const raw = Array.from({ length: count }, field).join(',');
    const expected = csvParse(raw + '\n', { delimiter: ',', quote: '"', escape: '"', record_delimiter: '\n', relax_quotes: true, relax_column_count: true, skip_empty_lines: false, bom: false }) as string[][];
    const fast = splitPlain(raw);
    if (fast !== undefined) {
      plain++;
      assert.deepEqual(fast, expected[0], JSON.stringify(raw));
    }
    const pieces: Piece[] = [rec(2, raw, count)];
    parseFields(pieces);
    assert.deepEqual(pieces[0]!.kind === 'record' ? pieces[0]!.fields : pieces[0]!.reason, expected[0], JSON.stringify(raw));
  }
  assert.ok(plain > 2000, `splitPlain took ${plain} of 3000 records`);
});

void test('splitPlain refuses what needs judgement: a quote inside an unquoted field, a CR, data after a closing quote', () => {
  assert.deepEqual(splitPlain('a,"b,""c""",'), ['a', 'b,"c"', '']);
  assert.deepEqual(splitPlain(''), ['']);
  assert.equal(splitPlain('a,b"c'), undefined);
  assert.equal(splitPlain('a,b\rc'), undefined);
  assert.equal(splitPlain('"a"b,c'), undefined);
  assert.equal(splitPlain('"a'), undefined);
});
