import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cqlStatements, isSchemaLag } from '../../lib/migrate/cassandra';
import { migrationStatements } from '../../lib/migrate/statements';

void test('migration files split into statements without comment lines or empty pieces', () => {
  const text = ['-- the event table', 'CREATE TABLE a (id INT);', '  -- indented comment', '', 'INSERT INTO a', 'VALUES (1);', ';'].join('\n');
  assert.deepEqual(migrationStatements(text), ['CREATE TABLE a (id INT)', 'INSERT INTO a\nVALUES (1)']);
});

void test('cql migrations get their keyspace substituted in every statement', () => {
  const text = 'CREATE TABLE ${keyspace}.t (k text PRIMARY KEY);\n-- ${keyspace} in a comment is dropped\nDROP TABLE ${keyspace}.u;';
  assert.deepEqual(cqlStatements(text, 'trackflow_x'), ['CREATE TABLE trackflow_x.t (k text PRIMARY KEY)', 'DROP TABLE trackflow_x.u']);
});

void test('isSchemaLag: refusals of a coordinator that has not learned of a new keyspace or table are asked again; others are not', () => {
  for (const message of [
    'Resource <keyspace trackflow_t_cluster_1a2b> doesn\'t exist',
    'Unknown CF 5a1c8e70-af1f-11ef-9cd2-0242ac120002',
    'unconfigured table schema_migrations',
    'Keyspace trackflow_t_x does not exist',
  ]) assert.equal(isSchemaLag(new Error(message)), true, message);
  for (const message of ['line 1:7 no viable alternative at input \'TABEL\'', 'Operation timed out - received only 1 responses.', 'User trackflow_migrate has no CREATE permission']) {
    assert.equal(isSchemaLag(new Error(message)), false, message);
  }
  assert.equal(isSchemaLag('Unknown CF'), false, 'only an Error is classified');
});
