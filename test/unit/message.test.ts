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
