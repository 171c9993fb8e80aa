import assert from 'node:assert/strict';
import test from 'node:test';
import { csvRow } from '../../lib/domain/csv';

test('csvRow quotes only fields with a comma, quote or line break, doubling quotes; null is empty', () => {
  assert.equal(csvRow(['a', 1, null, undefined, '']), 'a,1,,,');
  assert.equal(csvRow(['x,y', 'say "hi"', 'two\nlines', 'cr\rhere', ' padded ']), '"x,y","say ""hi""","two\nlines","cr\rhere", padded ');
  assert.equal(csvRow(['12.50', '2026-01-02 03:04:05']), '12.50,2026-01-02 03:04:05');
});
