import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionLags, totalLag } from '../../lib/kafka/lag';

void test('lag per partition: stored offset behind the high watermark, low watermark when nothing is stored', () => {
  const offsets = [
    { partition: 2, high: '10', low: '4' }, // nothing stored: the 6 retained messages
    { partition: 0, high: '100', low: '0' }, // stored 90: 10 behind
    { partition: 1, high: '50', low: '0' }, // stored 60 (ahead after a topic was recreated): no negative lag
  ];
  const stored = new Map([
    [0, '90'],
    [1, '60'],
  ]);
  const lags = partitionLags(offsets, stored);
  assert.deepEqual(lags, [
    { partition: 0, high: 100, next: 90, lag: 10 },
    { partition: 1, high: 50, next: 60, lag: 0 },
    { partition: 2, high: 10, next: 4, lag: 6 },
  ]);
  assert.equal(totalLag(lags), 16);
  assert.equal(totalLag([]), 0);
});
