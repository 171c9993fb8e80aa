import assert from 'node:assert/strict';
import test from 'node:test';
import { javaArgFileQuote } from '../../bench/platform';

void test('a Java argument file quotes each argument and escapes backslashes and quotes, as the launcher reads them', () => {
  assert.equal(javaArgFileQuote('write'), '"write"');
  assert.equal(javaArgFileQuote('password=a b'), '"password=a b"');
  assert.equal(javaArgFileQuote('password=q"x'), '"password=q\\"x"');
  assert.equal(javaArgFileQuote('C:\\dir'), '"C:\\\\dir"');
  assert.equal(javaArgFileQuote('replication(factor=1)'), '"replication(factor=1)"');
});
