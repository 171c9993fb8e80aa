import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveStatus, renderStatus } from '../../scripts/cli/streamStatus';
import type { StreamStatus } from '../../workflows';

const zero = { consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0, duplicates: 0, redelivered: 0, unknownJob: 0, batches: 0 };
const NOW = Date.parse('2026-01-01T12:00:00Z');

function status(over: Partial<StreamStatus> = {}): StreamStatus {
  return {
    state: 'running',
    leases: 40,
    leasesThisRun: 40,
    runs: 1,
    since: '2026-01-01T10:00:00Z',
    totals: { ...zero, consumed: 1000, counted: 300, batches: 10 },
    lastLease: { endedAt: '2026-01-01T11:59:00Z', endReason: 'lease-expired', partitions: [{ partition: 0, nextOffset: '1000', lag: 50 }], durationMs: 60_000 },
    lag: 50,
    ...over,
  };
}

test('totals include what the lease in flight has committed, and lag is the live one', () => {
  const live = liveStatus(status(), { counts: { consumed: 250, counted: 80, batches: 3 }, partitions: [{ partition: 0, nextOffset: '1250', lag: 5 }], lag: 5 }, NOW);
  assert.equal(live.totals['consumed'], 1250);
  assert.equal(live.totals['counted'], 380);
  assert.equal(live.lag, 5);
  assert.equal(live.live, true);
  const text = renderStatus('stream-x', 'RUNNING', status(), { counts: { consumed: 250 }, partitions: [{ partition: 0, nextOffset: '1250', lag: 5 }], lag: 5 }, NOW);
  assert.match(text, /totals \(live, including the lease in flight\): consumed 1250/);
  assert.match(text, /partition 0: next offset 1250, lag 5/);
});

test('an error from 35 minutes ago, followed by a clean lease, is shown with its age as resolved', () => {
  const s = status({ lastError: { at: '2026-01-01T11:25:00Z', message: 'mysql: connect ECONNREFUSED' } });
  const live = liveStatus(s, undefined, NOW);
  assert.equal(live.error?.current, false);
  assert.equal(live.error?.ageMs, 35 * 60_000);
  assert.match(renderStatus('stream-x', 'RUNNING', s, undefined, NOW), /last error 2026-01-01T11:25:00Z \(35m00s ago, resolved: a lease ended cleanly at 2026-01-01T11:59:00Z\)/);
});

test('an error after the last finished lease is current', () => {
  const s = status({ lastError: { at: '2026-01-01T11:59:30Z', message: 'kafka: broker down' } });
  assert.equal(liveStatus(s, undefined, NOW).error?.current, true);
  assert.match(renderStatus('stream-x', 'RUNNING', s, undefined, NOW), /\(30s ago, CURRENT\): kafka: broker down/);
});
