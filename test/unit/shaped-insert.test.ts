import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SHAPES, shapedInserts } from '../../lib/ingest/shapedInsert';

void test('an insert names only the columns with a value; null and undefined are left out, 0 and empty maps are not', () => {
  const insert = shapedInserts('ks.t', ['a', 'b', 'c', 'd']);
  assert.deepEqual(insert([1, null, 'x', undefined]), { query: 'INSERT INTO ks.t (a, c) VALUES (?, ?)', params: [1, 'x'] });
  assert.deepEqual(insert([0, '', {}, 2]), { query: 'INSERT INTO ks.t (a, b, c, d) VALUES (?, ?, ?, ?)', params: [0, '', {}, 2] });
  // The same shape again is the same statement text, so the driver prepares it once.
  assert.equal(insert([5, undefined, 'y', null]).query, 'INSERT INTO ks.t (a, c) VALUES (?, ?)');
});

void test('past the shape cap a row binds every column, its empty values unset', () => {
  const columns = Array.from({ length: 8 }, (_, i) => `c${i}`);
  const insert = shapedInserts('ks.t', columns);
  const row = (n: number): Array<number | null> => columns.map((_, i) => ((n >> i) & 1 ? i : null));
  const bits = (n: number): number => columns.filter((_, i) => (n >> i) & 1).length;
  for (let n = 1; n <= MAX_SHAPES; n++) {
    const ins = insert(row(n));
    assert.equal(ins.query.split('?').length - 1, bits(n));
    assert.equal(ins.params.length, bits(n));
  }
  const over = insert(row(MAX_SHAPES + 1));
  assert.equal(over.query, `INSERT INTO ks.t (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
  assert.deepEqual(over.params, row(MAX_SHAPES + 1).map((v) => v ?? undefined));
  // A shape prepared before the cap keeps its own statement.
  assert.deepEqual(insert(row(3)), { query: 'INSERT INTO ks.t (c0, c1) VALUES (?, ?)', params: [0, 1] });
});
