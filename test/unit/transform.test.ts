import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TrackingMessageV1 } from '../../lib/domain/message';
import { PoisonMessageError } from '../../lib/domain/message';
import type { CountableEvent } from '../../lib/domain/transform';
import { aggregate, bidSet, canonicalDecimal, classify, microsToDecimal } from '../../lib/domain/transform';

// 2022-07-08T23:30:00Z: UTC hour 23 of July 8 (in UTC+7 it is already 06:30 on July 9).
const LATE_EVENING = 'e26f8c01-ff15-11ec-8001-0a0b0c0d0e0f';
// 2022-07-08T09:05:00Z and 09:55:00Z: the same UTC hour.
const NINE_A = '0ba00602-fe9d-11ec-8001-0a0b0c0d0e0f';
const NINE_B = '07c3b203-fea4-11ec-8001-0a0b0c0d0e0f';
// 2022-07-08T10:00:00Z
const TEN = 'ba941004-fea4-11ec-8001-0a0b0c0d0e0f';

function msg(over: Partial<TrackingMessageV1>): TrackingMessageV1 {
  return {
    v: 1,
    event_id: NINE_A,
    ts: '2022-07-08T09:05:00.000Z',
    job_id: 98,
    custom_track: 'click',
    bid: 2,
    campaign_id: 4,
    group_id: 0,
    publisher_id: 1,
    ...over,
  };
}

function countable(m: TrackingMessageV1): CountableEvent {
  const c = classify(m);
  assert.equal(c.kind, 'countable');
  return (c as { event: CountableEvent }).event;
}

void test('keeps only click, conversion, qualified and unqualified', () => {
  for (const action of ['click', 'conversion', 'qualified', 'unqualified']) {
    assert.equal(classify(msg({ custom_track: action })).kind, 'countable', action);
  }
  for (const action of ['alive', 'interview_scheduled', 'redirect', 'superpixel', '', 'Click', 'future_thing', null]) {
    assert.equal(classify(msg({ custom_track: action })).kind, 'filtered', String(action));
  }
});

void test('filter comes before attribution: an ignored action without a job is filtered, not unattributed', () => {
  assert.equal(classify(msg({ custom_track: 'alive', job_id: null })).kind, 'filtered');
  assert.equal(classify(msg({ custom_track: 'click', job_id: null })).kind, 'unattributed');
});

void test('null bid, publisher, campaign and group become 0; double ids become integers', () => {
  const e = countable(msg({ bid: null, publisher_id: null, campaign_id: null, group_id: null, job_id: 188.0 }));
  assert.deepEqual(
    { jobId: e.jobId, bidMicros: e.bidMicros, publisherId: e.publisherId, campaignId: e.campaignId, groupId: e.groupId },
    { jobId: 188, bidMicros: 0n, publisherId: 0, campaignId: 0, groupId: 0 },
  );
});

void test('date and hour come from the event UUID in UTC, not from ts', () => {
  const e = countable(msg({ event_id: LATE_EVENING, ts: '2022-07-09 06:30:00' }));
  assert.equal(e.dates, '2022-07-08');
  assert.equal(e.hours, 23);
  const ten = countable(msg({ event_id: TEN, ts: '' }));
  assert.deepEqual([ten.dates, ten.hours], ['2022-07-08', 10]);
});

void test('fractional or negative ids and absurd bids are poison', () => {
  assert.throws(() => classify(msg({ job_id: 98.5 })), PoisonMessageError);
  assert.throws(() => classify(msg({ publisher_id: -1 })), PoisonMessageError);
  assert.throws(() => classify(msg({ bid: 1e15 })), PoisonMessageError);
});

void test('aggregates per group key: clicks, exact bid sum over clicks only, other counts', () => {
  const rows = aggregate([
    countable(msg({ event_id: NINE_A, bid: 0.5 })),
    countable(msg({ event_id: NINE_B, bid: 1.25 })),
    countable(msg({ event_id: NINE_B, bid: 0.1 })),
    // a conversion with a bid: the bid is not spend
    countable(msg({ event_id: NINE_A, custom_track: 'conversion', bid: 9 })),
    countable(msg({ event_id: NINE_A, custom_track: 'qualified' })),
    countable(msg({ event_id: NINE_A, custom_track: 'unqualified' })),
    countable(msg({ event_id: NINE_A, custom_track: 'unqualified' })),
    // another hour, another group
    countable(msg({ event_id: TEN, bid: null, group_id: 7 })),
  ]);
  assert.deepEqual(rows, [
    {
      jobId: 98, dates: '2022-07-08', hours: 9, publisherId: 1, campaignId: 4, groupId: 0,
      clicks: 3, bidSumMicros: 1_850_000n, conversion: 1, qualified: 1, disqualified: 2,
    },
    {
      jobId: 98, dates: '2022-07-08', hours: 10, publisherId: 1, campaignId: 4, groupId: 7,
      clicks: 1, bidSumMicros: 0n, conversion: 0, qualified: 0, disqualified: 0,
    },
  ]);
  assert.equal(microsToDecimal(1_850_000), '1.850000');
});

void test('the worked example of the contract: 108 clicks at 2.0', () => {
  const events = Array.from({ length: 108 }, () => countable(msg({ bid: 2.0 })));
  const [row] = aggregate(events);
  assert.ok(row);
  assert.equal(row.clicks, 108);
  assert.equal(microsToDecimal(row.bidSumMicros), '216.000000');
  assert.equal(bidSet(row.bidSumMicros, row.clicks), '2.00');
});

void test('bid_set rounds the average half away from zero to 2 decimals, null without clicks', () => {
  assert.equal(bidSet(0, 0), null);
  assert.equal(bidSet(1_850_000, 3), '0.62'); // 0.61666...
  assert.equal(bidSet(1_250_000, 2), '0.63'); // 0.625 exactly -> up
  assert.equal(bidSet(1_000_000, 3), '0.33');
  assert.equal(bidSet(10_000, 2), '0.01'); // 0.005 -> 0.01
  assert.equal(bidSet(4_000, 1), '0.00');
  assert.equal(bidSet(-1_250_000, 2), '-0.63');
  assert.equal(bidSet(123_456_789_000_000, 1), '123456789.00');
});

void test('canonical decimal text: 2 to 6 fraction digits, no trailing-zero noise', () => {
  assert.equal(canonicalDecimal('2.000000'), '2.00');
  assert.equal(canonicalDecimal('216.000000'), '216.00');
  assert.equal(canonicalDecimal('0.125000'), '0.125');
  assert.equal(canonicalDecimal('0.62'), '0.62');
  assert.equal(canonicalDecimal(1.5), '1.50');
  assert.equal(canonicalDecimal('-0.000000'), '0.00');
  assert.equal(canonicalDecimal(null), null);
});
