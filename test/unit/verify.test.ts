import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActivityDeps } from '../../activities/deps';
import { createVerifyActivities } from '../../activities/verify';
import { makeTimeUuid } from '../../lib/domain/timeuuid';
import { Metrics } from '../../lib/metrics';
import { eventIdKey } from '../../lib/stream/commit';
import { hoursBetween, lastHours, parseHour, previousDayHours } from '../../lib/domain/hours';
import { mapHoursInOrder } from '../../lib/verify/run';
import { formatVerdict, judgeHour } from '../../lib/verify/judge';
import { eventIdOfKey, ledgerKeyRange } from '../../lib/verify/read';
import type { LakeEvent, WarehouseRow } from '../../lib/verify/recompute';
import { classifyHour, classifyLakeEvent } from '../../lib/verify/recompute';

const H = 3_600_000;
const JULY_8_09 = Date.UTC(2022, 6, 8, 9);
let n = 0;
function lakeEvent(over: Partial<LakeEvent> = {}, atMs = JULY_8_09 + 60_000): LakeEvent {
  n += 1;
  return {
    create_time: makeTimeUuid(atMs, n % 10_000, n, '0a0b0c0d0e0f'),
    job_id: 98,
    custom_track: 'click',
    bid: 2.0,
    campaign_id: 4,
    group_id: null,
    publisher_id: 1,
    ingestBatch: 'b1',
    ...over,
  };
}

/** The data contract's worked example: job 98, 2022-07-08 hour 9, publisher 1, campaign 4, group 0, 108 clicks at 2.0. */
function workedExampleRow(over: Partial<WarehouseRow> = {}): WarehouseRow {
  return {
    job_id: 98, dates: '2022-07-08', hours: 9, publisher_id: 1, campaign_id: 4, group_id: 0,
    bid_set: '2.00', clicks: 108, spend_hour: '216.00', conversion: 0, qualified_application: 0,
    disqualified_application: 0, company_id: 1, sources: 'Cassandra', bid_sum: '216.00', ...over,
  };
}

void test('parseHour floors ISO 8601 times to their UTC hour and refuses the rest', () => {
  assert.equal(parseHour('2022-07-08T09'), '2022-07-08T09');
  assert.equal(parseHour('2022-07-08'), '2022-07-08T00');
  assert.equal(parseHour('2022-07-08T09:59:59.999Z'), '2022-07-08T09');
  assert.equal(parseHour('2022-07-08T09:41'), '2022-07-08T09');
  assert.equal(parseHour('2022-07-08T01:30+02:00'), '2022-07-07T23');
  for (const bad of ['yesterday', '2022-13-01T00', '2022-02-30T10', '08/07/2022', '', '2022-07-08T25']) {
    assert.throws(() => parseHour(bad), /ISO 8601|no such time/, bad);
  }
});

void test('hour ranges: inclusive, ordered, across a day; last 48 h; the previous UTC day', () => {
  assert.deepEqual(hoursBetween('2022-07-08T22', '2022-07-09T01'), ['2022-07-08T22', '2022-07-08T23', '2022-07-09T00', '2022-07-09T01']);
  assert.throws(() => hoursBetween('2022-07-09T01', '2022-07-08T22'), /after/);
  const last = lastHours(Date.UTC(2022, 6, 8, 9, 30), 48);
  assert.equal(last.length, 48);
  assert.equal(last[0], '2022-07-06T10');
  assert.equal(last[47], '2022-07-08T09');
  const day = previousDayHours(Date.UTC(2022, 6, 8, 4, 0));
  assert.equal(day.length, 24);
  assert.equal(day[0], '2022-07-07T00');
  assert.equal(day[23], '2022-07-07T23');
});

void test('the ledger key range of an hour holds exactly the ids of that hour', () => {
  const [lo, hi] = ledgerKeyRange('2022-07-08T09');
  const inside = [JULY_8_09, JULY_8_09 + H - 1].map((ms) => eventIdKey(makeTimeUuid(ms, 9999, 0x3fff, 'ffffffffffff')));
  const outside = [JULY_8_09 - 1, JULY_8_09 + H].map((ms) => eventIdKey(makeTimeUuid(ms, 0, 0, '000000000000')));
  for (const k of inside) assert.ok(Buffer.compare(k, lo) >= 0 && Buffer.compare(k, hi) < 0, k.toString('hex'));
  for (const k of outside) assert.ok(Buffer.compare(k, lo) < 0 || Buffer.compare(k, hi) >= 0, k.toString('hex'));
  const id = makeTimeUuid(JULY_8_09 + 5, 17, 99, '0a0b0c0d0e0f');
  assert.equal(eventIdOfKey(eventIdKey(id)), id);
});

void test('a lake event takes the stream path: filtered, unattributed, dead-lettered, countable', () => {
  assert.equal(classifyLakeEvent(lakeEvent({ custom_track: 'alive' })).kind, 'filtered');
  assert.equal(classifyLakeEvent(lakeEvent({ custom_track: null })).kind, 'filtered');
  assert.equal(classifyLakeEvent(lakeEvent({ job_id: null })).kind, 'unattributed');
  assert.equal(classifyLakeEvent(lakeEvent({ job_id: 98.5 })).kind, 'deadLettered');
  assert.equal(classifyLakeEvent(lakeEvent({ bid: 1e13 })).kind, 'deadLettered');
  assert.equal(classifyLakeEvent(lakeEvent({ create_time: 'not-a-uuid' })).kind, 'publishQuarantined');
  const c = classifyLakeEvent(lakeEvent({ bid: 1.25, group_id: null }));
  assert.equal(c.kind, 'countable');
  assert.deepEqual(c.kind === 'countable' && [c.event.jobId, c.event.dates, c.event.hours, c.event.groupId, c.event.bidMicros], [98, '2022-07-08', 9, 0, 1_250_000n]);
});

function workedExampleHour(extra: LakeEvent[] = []) {
  const events = Array.from({ length: 108 }, () => lakeEvent());
  return { events, lake: classifyHour([...events, ...extra, lakeEvent({ custom_track: 'alive' })]) };
}

void test('judgeHour: the worked example verifies; a changed clicks value is reported with both values', () => {
  const { events, lake } = workedExampleHour();
  const stream = { ledger: new Set(events.map((e) => e.create_time)), publishedBatches: new Set(['b1']), lag: 0 };
  const companies = new Map([[98, 1]]);
  const ok = judgeHour({ hour: '2022-07-08T09', lake, stream, companies, warehouse: [workedExampleRow()] });
  assert.equal(ok.status, 'verified');
  assert.equal(ok.filtered, 1);
  assert.equal(ok.countable, 108);

  const bad = judgeHour({ hour: '2022-07-08T09', lake, stream, companies, warehouse: [workedExampleRow({ clicks: 113 })] });
  assert.equal(bad.status, 'differs');
  assert.deepEqual(bad.differences, [{ kind: 'differs', key: '98|2022-07-08|9|1|4|0', columns: [{ column: 'clicks', warehouse: 113, lake: 108 }] }]);
  assert.match(formatVerdict(bad), /clicks warehouse=113 lake=108/);

  const missing = judgeHour({ hour: '2022-07-08T09', lake, stream, companies, warehouse: [] });
  assert.deepEqual(missing.differences.map((d) => d.kind), ['missing']);
  const extra = judgeHour({ hour: '2022-07-08T09', lake, stream, companies, warehouse: [workedExampleRow(), workedExampleRow({ job_id: 7 })] });
  assert.deepEqual(extra.differences.map((d) => [d.kind, d.key]), [['extra', '7|2022-07-08|9|1|4|0']]);
});

void test('judgeHour: events not yet published or not yet consumed make the hour not settled, not different', () => {
  const late = [lakeEvent({ ingestBatch: 'b2' }), lakeEvent({ ingestBatch: 'b3' })];
  const { events, lake } = workedExampleHour(late);
  const ledger = new Set(events.map((e) => e.create_time));
  const companies = new Map([[98, 1]]);
  // b2 is not published yet; b3 is published and the consumer lags.
  const v = judgeHour({ hour: '2022-07-08T09', lake, stream: { ledger, publishedBatches: new Set(['b1', 'b3']), lag: 5 }, companies, warehouse: [workedExampleRow()] });
  assert.equal(v.status, 'not-settled');
  assert.deepEqual(v.inFlight, { notPublished: 1, notConsumed: 1, companyPending: 0 });
  assert.match(formatVerdict(v), /not settled \(2 events in flight/);

  // Caught up, published, yet not in the ledger nor in the rows: a real difference.
  const lost = judgeHour({ hour: '2022-07-08T09', lake, stream: { ledger, publishedBatches: new Set(['b1', 'b2', 'b3']), lag: 0 }, companies, warehouse: [workedExampleRow()] });
  assert.equal(lost.status, 'differs');
  assert.deepEqual(lost.differences, [{ kind: 'differs', key: '98|2022-07-08|9|1|4|0', columns: [
    { column: 'clicks', warehouse: 108, lake: 110 }, { column: 'spend_hour', warehouse: '216.00', lake: '220.00' }, { column: 'bid_sum', warehouse: '216.00', lake: '220.00' },
  ] }]);

  // A job whose company the stream has not filled in yet is pending.
  const pending = judgeHour({ hour: '2022-07-08T09', lake: classifyHour(events), stream: { ledger, publishedBatches: new Set(['b1']), lag: 0 }, companies, warehouse: [workedExampleRow({ company_id: null })] });
  assert.equal(pending.status, 'not-settled');
  assert.equal(pending.inFlight.companyPending, 1);
});

void test('judgeHour: a ledger row pruned long ago does not turn a correct hour into a difference while the consumer lags', () => {
  const { events, lake } = workedExampleHour();
  const v = judgeHour({ hour: '2022-07-08T09', lake, stream: { ledger: new Set(), publishedBatches: new Set(['b1']), lag: 3 }, companies: new Map([[98, 1]]), warehouse: [workedExampleRow()] });
  assert.equal(v.status, 'verified');
  assert.equal(events.length, 108);
});

void test('recordVerifyOutcome exposes the differences and the last verified hour on /metrics', async () => {
  const metrics = new Metrics();
  const { recordVerifyOutcome } = createVerifyActivities({ metrics } as unknown as ActivityDeps);
  await recordVerifyOutcome({ differences: 3, differingHours: 2, lastVerifiedHour: '2022-07-08T09' });
  const text = await metrics.render();
  assert.match(text, /^trackflow_verify_differences 3$/m);
  assert.match(text, /^trackflow_verify_differing_hours 2$/m);
  assert.match(text, new RegExp(`^trackflow_verify_last_verified_hour_seconds ${JULY_8_09 / 1000}$`, 'm'));
  await recordVerifyOutcome({ differences: 0, differingHours: 0 });
  assert.match(await metrics.render(), /^trackflow_verify_differences 0$/m);
  assert.match(await metrics.render(), new RegExp(`^trackflow_verify_last_verified_hour_seconds ${JULY_8_09 / 1000}$`, 'm'), 'kept when no hour verified');
});

void test('mapHoursInOrder: results in hour order, the finished prefix reported as it grows, the first error thrown', async () => {
  const hours = ['h0', 'h1', 'h2', 'h3', 'h4'];
  const release = new Map<string, () => void>();
  const prefixes: string[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = mapHoursInOrder(hours, 2, async (h) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await new Promise<void>((r) => release.set(h, r));
    inFlight -= 1;
    return h.toUpperCase();
  }, (done) => prefixes.push([...done]));
  const tick = () => new Promise((r) => setImmediate(r));
  await tick();
  // h1 finishes first, then h2 (started in its place): nothing is reported until h0 is done.
  release.get('h1')!();
  await tick();
  release.get('h2')!();
  await tick();
  assert.deepEqual(prefixes, []);
  release.get('h0')!();
  await tick();
  assert.deepEqual(prefixes, [['H0', 'H1', 'H2']]);
  for (const h of ['h3', 'h4']) {
    release.get(h)!();
    await tick();
  }
  assert.deepEqual(await run, ['H0', 'H1', 'H2', 'H3', 'H4']);
  assert.equal(maxInFlight, 2);
  assert.deepEqual(prefixes.at(-1), ['H0', 'H1', 'H2', 'H3', 'H4']);
  await assert.rejects(mapHoursInOrder(hours, 3, async (h) => {
    if (h === 'h1') throw new Error('boom');
    return h;
  }), /boom/);
});
