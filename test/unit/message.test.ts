import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoisonMessageError, decodeMessage } from '../../lib/domain/message';
import { messageOrigin } from '../../lib/publish/headers';

const base = {
  v: 1,
  event_id: '26eb3150-0d61-11ed-9fd0-70c372b40ff7',
  ts: '2022-07-27T04:04:03.429Z',
  job_id: 187,
  custom_track: 'click',
  bid: 1,
  campaign_id: 48,
  group_id: 34,
  publisher_id: 1,
};

test('the publish position travels in the value and is read back as batch and seq', () => {
  const decoded = decodeMessage(JSON.stringify({ ...base, pub: 'b7b56b0adc1c659b02982:9' }));
  assert.deepEqual(messageOrigin(decoded, undefined), { batch: 'b7b56b0adc1c659b02982', seq: 9 });
});

test('without pub, the position comes from the headers of older publishers, or there is none', () => {
  const decoded = decodeMessage(JSON.stringify(base));
  assert.equal(decoded.pub, undefined);
  assert.deepEqual(messageOrigin(decoded, { 'trackflow-batch': Buffer.from('bA'), 'trackflow-seq': Buffer.from('12') }), {
    batch: 'bA',
    seq: 12,
  });
  assert.equal(messageOrigin(decoded, undefined), undefined);
});

test('a malformed pub is poison, not silently ignored (it would disable the duplicate check)', () => {
  for (const pub of ['b1', 'b1:x', 12, ':5']) {
    assert.throws(() => decodeMessage(JSON.stringify({ ...base, pub })), PoisonMessageError, String(pub));
  }
});

// Message contract v2: [2, event_id, job_id, custom_track, bid, campaign_id, group_id, publisher_id, pub_batch, pub_seq]
const V2 = '[2,"26EB3150-0d61-11ed-9fd0-70c372b40ff7",187,"click",1.25,48,null,1,"b7b56b0adc1c659b02982",9]';

test('a v2 value decodes to the v1 fields, the event id lower-cased, the position read from its last two elements', () => {
  const decoded = decodeMessage(Buffer.from(V2));
  assert.deepEqual(decoded, {
    v: 2,
    event_id: '26eb3150-0d61-11ed-9fd0-70c372b40ff7',
    job_id: 187,
    custom_track: 'click',
    bid: 1.25,
    campaign_id: 48,
    group_id: null,
    publisher_id: 1,
    origin: { batch: 'b7b56b0adc1c659b02982', seq: 9 },
  });
  assert.deepEqual(messageOrigin(decoded, { 'trackflow-batch': Buffer.from('other'), 'trackflow-seq': Buffer.from('1') }), {
    batch: 'b7b56b0adc1c659b02982',
    seq: 9,
  });
});

test('a v2 value without a position has null for both; then the headers, or nothing, give it', () => {
  const decoded = decodeMessage('[2,"26eb3150-0d61-11ed-9fd0-70c372b40ff7",null,null,null,null,null,null,null,null]');
  assert.equal(decoded.origin, undefined);
  assert.equal(decoded.job_id, null);
  assert.equal(decoded.custom_track, null);
  assert.equal(messageOrigin(decoded, undefined), undefined);
});

test('v2 values that do not fit the contract are poison, each for its reason', () => {
  const id = '"26eb3150-0d61-11ed-9fd0-70c372b40ff7"';
  const cases: Array<[string, RegExp]> = [
    [`[3,${id},1,"click",1,1,1,1,null,null]`, /version 3/],
    [`[2,${id},1,"click",1,1,1,1,null]`, /10 elements, got 9/],
    [`[2,${id},1,"click",1,1,1,1,null,null,null]`, /10 elements, got 11/],
    ['[2,"26eb3150-0d61-41ed-9fd0-70c372b40ff7",1,"click",1,1,1,1,null,null]', /time UUID/],
    [`[2,${id},1,7,1,1,1,1,null,null]`, /custom_track/],
    [`[2,${id},"1","click",1,1,1,1,null,null]`, /job_id/],
    [`[2,${id},1,"click",1e400,1,1,1,null,null]`, /bid must be a finite number/],
    [`[2,${id},1,"click",1,1e400,1,1,null,null]`, /campaign_id/],
    [`[2,${id},1,"click",1,1,-1e400,1,null,null]`, /group_id/],
    [`[2,${id},1,"click",1,1,1,1e999,null,null]`, /publisher_id/],
    [`[2,${id},1,"click",1,1,1,1,"b1",null]`, /pub_seq/],
    [`[2,${id},1,"click",1,1,1,1,null,5]`, /pub_batch/],
    [`[2,${id},1,"click",1,1,1,1,"a:b",5]`, /pub_batch/],
    [`[2,${id},1,"click",1,1,1,1,"",5]`, /pub_batch/],
    [`[2,${id},1,"click",1,1,1,1,"b1",-1]`, /pub_seq/],
    [`[2,${id},1,"click",1,1,1,1,"b1",1.5]`, /pub_seq/],
    [`[2,${id},1,"click",1,1,1,1,"b1",1000000000000000]`, /pub_seq/],
    [`[2,${id},1,"click",1,1,1,1,"${'b'.repeat(65)}",1]`, /64/],
    ['[]', /version undefined/],
  ];
  for (const [value, reason] of cases) assert.throws(() => decodeMessage(value), (err: Error) => err instanceof PoisonMessageError && reason.test(err.message), value);
  // The largest position v1 allows is allowed in v2 too.
  assert.deepEqual(decodeMessage(`[2,${id},1,"click",1,1,1,1,"${'é'.repeat(64)}",999999999999999]`).origin, { batch: 'é'.repeat(64), seq: 999_999_999_999_999 });
});

test('v1 values keep decoding as before next to v2 (a topic holds both during an upgrade)', () => {
  const v1 = decodeMessage(JSON.stringify({ ...base, pub: 'b7b56b0adc1c659b02982:9' }));
  const v2 = decodeMessage(V2.replace('1.25', '1').replace('null', '34'));
  assert.equal(v1.v, 1);
  assert.equal(v1.ts, base.ts);
  const { v: _v1, ts: _ts, pub: _pub, ...v1Fields } = v1;
  const { v: _v2, origin: _origin, ...v2Fields } = v2;
  assert.deepEqual(v2Fields, v1Fields);
  assert.deepEqual(messageOrigin(v1, undefined), messageOrigin(v2, undefined));
});
