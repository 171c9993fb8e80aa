import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cqlStatements } from '../../lib/migrate/cassandra';
import { migrationStatements } from '../../lib/migrate/statements';

void test('migration files split into statements without comment lines or empty pieces', () => {
  const text = ['-- the event table', 'CREATE TABLE a (id INT);', '  -- indented comment', '', 'INSERT INTO a', 'VALUES (1);', ';'].join('\n');
  assert.deepEqual(migrationStatements(text), ['CREATE TABLE a (id INT)', 'INSERT INTO a\nVALUES (1)']);
});

void test('cql migrations get their keyspace substituted in every statement', () => {
  const text = 'CREATE TABLE ${keyspace}.t (k text PRIMARY KEY);\n-- ${keyspace} in a comment is dropped\nDROP TABLE ${keyspace}.u;';
  assert.deepEqual(cqlStatements(text, 'trackflow_x'), ['CREATE TABLE trackflow_x.t (k text PRIMARY KEY)', 'DROP TABLE trackflow_x.u']);
});
