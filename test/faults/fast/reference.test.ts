import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { expectedExport, expectedFrom, readCsv, v1Millis } from '../../support/reference';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');

void test('reference aggregator: the hand-worked rows of the sample', () => {
  const exp = expectedFrom([path.join(FIXTURES, 'tracking_sample.csv')], path.join(FIXTURES, 'job_sample.csv'));
  assert.equal(exp.rows, 57);
  assert.equal(exp.rejected, 0);
  const rows = expectedExport(exp);
  // job, date, hour, publisher, campaign, group, bid_set, clicks, spend_hour, ...
  assert.ok(rows.includes('98,2022-07-08,9,1,4,0,2.00,1,2.00,0,0,0,1,Cassandra'), rows.join('\n'));
  const r1527 = rows.find((r) => r.startsWith('1527,2022-07-26,6,1,222,0,'));
  assert.equal(r1527, '1527,2022-07-26,6,1,222,0,0.00,2,0.00,0,0,0,1,Cassandra');
  assert.equal(rows.length - 1, 22);
  assert.equal(exp.events, exp.filtered + exp.unattributed + exp.poison + exp.counted);
});

void test('reference aggregator: UUID time, quoting and line numbers', () => {
  // 2022-07-27 03:58:22.542 UTC is the first event of the sample (its ts column is the tracker's local time).
  assert.equal(new Date(v1Millis('5af328a0-0d60-11ed-90e9-7cd44fe229db')!).toISOString().slice(0, 13), '2022-07-27T03');
  assert.equal(v1Millis('5af328a0-0d60-41ed-90e9-7cd44fe229db'), undefined);
  const recs = readCsv(Buffer.from('\ufeffa,b\r\n"x,""y""\nz",w\n\nq"r,s'));
  assert.deepEqual(recs.map((r) => [r.line, r.fields.map(String)]), [
    [1, ['a', 'b']],
    [3, ['x,"y"\nz', 'w']],
    [5, ['q"r', 's']],
  ]);
});
