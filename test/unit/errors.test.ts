import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import * as errors from '../../lib/domain/errors';
import { EXIT, FileNotFound, InvalidHeader, NotFound, ServiceUnavailable, TrackflowError, UsageError, isRetryable } from '../../lib/domain/errors';
import { describeFailure } from '../../lib/failure';
import { BatchNotFoundError } from '../../lib/reconcile/gather';
import { NON_RETRYABLE_ERROR_TYPES } from '../../workflows/options';

/** Every class the module exports, found by walking its exports (not by reading ERROR_CLASSES). */
function exportedClasses(): Array<typeof TrackflowError> {
  return Object.values(errors).filter(
    (v): v is typeof TrackflowError => typeof v === 'function' && v.prototype instanceof TrackflowError,
  );
}

test('every exported error class is registered, and its code is its class name (the type Temporal records)', () => {
  const classes = exportedClasses();
  assert.ok(classes.length >= 15);
  assert.deepEqual(new Set(errors.ERROR_CLASSES), new Set(classes));
  for (const c of classes) assert.equal(c.code, c.name);
});

test("the workflows' non-retryable types are exactly the classes marked non-retryable", () => {
  const marked = exportedClasses().filter((c) => !c.retryable).map((c) => c.code);
  assert.deepEqual(new Set(NON_RETRYABLE_ERROR_TYPES), new Set(marked));
  // The types production throws, written out: a class losing its mark must fail here too.
  for (const t of ['InvalidHeader', 'FileNotFound', 'FileUnreadable', 'FileTooLarge', 'FileChanged', 'TooManyRejects', 'PathOutsideInputDirs', 'SymlinkRefused', 'PathNotRegular', 'InvalidHourRange', 'WarehouseDiffers', 'IngestFilesFailed', 'ConfigError']) {
    assert.ok(NON_RETRYABLE_ERROR_TYPES.includes(t), t);
  }
  for (const t of ['BadFileError', 'InvalidFileError', 'SchemaMismatchError', 'ServiceUnavailable']) assert.ok(!NON_RETRYABLE_ERROR_TYPES.includes(t), t);
});

test('an error of the taxonomy reads like an ApplicationFailure (type, nonRetryable) and keeps its cause', () => {
  const cause = new Error('EACCES');
  const e = new InvalidHeader('bad header', { cause });
  assert.deepEqual([e.name, e.type, e.code, e.nonRetryable, e.retryable, e.exitCode, e.cause], ['InvalidHeader', 'InvalidHeader', 'InvalidHeader', true, false, EXIT.failed, cause]);
  assert.ok(e instanceof Error);
  // A subclass named for its context keeps the taxonomy's code.
  assert.equal(new BatchNotFoundError('no batch x').code, 'NotFound');
});

test('retryability: by class, by an ApplicationFailure flag or type, and by default', () => {
  assert.equal(isRetryable(new FileNotFound('x')), false);
  assert.equal(isRetryable(new ServiceUnavailable('x')), true);
  assert.equal(isRetryable(ApplicationFailure.nonRetryable('x', 'Whatever')), false);
  assert.equal(isRetryable(ApplicationFailure.retryable('x', 'TooManyRejects')), false);
  assert.equal(isRetryable(ApplicationFailure.retryable('x', 'SomethingElse')), true);
  assert.equal(isRetryable(new Error('socket hang up')), true);
});

test('describeFailure: taxonomy errors by their exit code, on one line', () => {
  assert.deepEqual(describeFailure(new UsageError('missing <job.csv>')), { exitCode: 2, message: 'missing <job.csv>', usage: true });
  assert.deepEqual(describeFailure(new NotFound('no schedule s')), { exitCode: 1, message: 'no schedule s', usage: false });
  assert.deepEqual(describeFailure(new ServiceUnavailable('cannot reach Temporal at h:1\n  details')), { exitCode: 3, message: 'cannot reach Temporal at h:1; details', usage: false });
});

test('describeFailure: unreachable servers are exit 3 naming the service, with the first line only', () => {
  const mysql = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111 });
  assert.deepEqual(describeFailure(mysql), { exitCode: 3, message: 'service unavailable: MySQL: connect ECONNREFUSED 127.0.0.1:1', usage: false });
  const cassandra = Object.assign(new Error('All host(s) tried for query failed.\n  at inner'), { name: 'NoHostAvailableError' });
  assert.deepEqual(describeFailure(cassandra), { exitCode: 3, message: 'service unavailable: Cassandra: All host(s) tried for query failed.', usage: false });
  const kafka = new Error('wrapped', { cause: Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }) });
  assert.equal(describeFailure(kafka).exitCode, 3);
  const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { name: 'ServiceError', code: 14 });
  assert.deepEqual(describeFailure(grpc), { exitCode: 3, message: 'service unavailable: Temporal: 14 UNAVAILABLE: No connection established', usage: false });
});

test('describeFailure: a missing schema is exit 1 and says to migrate', () => {
  const e = Object.assign(new Error("Table 'w.events' doesn't exist"), { code: 'ER_NO_SUCH_TABLE' });
  assert.deepEqual(describeFailure(e), { exitCode: 1, message: "schema missing: MySQL: Table 'w.events' doesn't exist (run npm run migrate)", usage: false });
});

test('describeFailure: a failed run or an ApplicationFailure by its type; anything else exit 1', () => {
  const differs = ApplicationFailure.nonRetryable('3 rows differ', 'WarehouseDiffers');
  assert.deepEqual(describeFailure(new WorkflowFailedError('Workflow execution failed', differs, 'NON_RETRYABLE_FAILURE')), { exitCode: 1, message: '3 rows differ', usage: false });
  assert.deepEqual(describeFailure(ApplicationFailure.nonRetryable('bad range', 'UsageError')), { exitCode: 2, message: 'bad range', usage: false });
  assert.deepEqual(describeFailure(new TypeError('x is not a function')), { exitCode: 1, message: 'x is not a function', usage: false });
  assert.deepEqual(describeFailure('a string'), { exitCode: 1, message: 'a string', usage: false });
});
