import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IDX, TRACKING_COLUMNS, checkRecord, planColumns, reasonKind } from '../../lib/domain/tracking';

/** A valid record of the standard export with one field replaced. */
function record(overrides: Record<string, string> = {}): string[] {
  const f: string[] = TRACKING_COLUMNS.map(() => '');
  f[0] = '7';
  f[IDX.createTime] = '5af328a0-0d60-11ed-90e9-7cd44fe229db';
  f[IDX.customTrack] = 'click';
  f[IDX.jobId] = '98.0';
  f[IDX.bid] = '1.0';
  for (const [c, v] of Object.entries(overrides)) f[TRACKING_COLUMNS.indexOf(c as (typeof TRACKING_COLUMNS)[number])] = v;
  return f;
}

function reject(overrides: Record<string, string>): string {
  const c = checkRecord(record(overrides));
  assert.ok(!c.ok, `expected ${JSON.stringify(overrides)} to be rejected`);
  return c.reason;
}

void test('case 3: numeric literals that overflow or underflow a double are rejected with a reason', () => {
  for (const lit of ['1e400', '-1e400', '1e309', '9'.repeat(400)]) {
    const reason = reject({ campaign_id: lit });
    assert.equal(reasonKind(reason), 'invalid_number', reason);
    assert.match(reason, /campaign_id is not a finite number/);
  }
  for (const lit of ['NaN', 'Infinity', '-Infinity', '0x1f', '1_0']) assert.equal(reasonKind(reject({ tz: lit })), 'invalid_number');
  assert.match(reject({ ev: '1e-400' }), /too small for a double/);
  assert.ok(checkRecord(record({ ev: '0e-400' })).ok, 'a literal zero stays zero');
  assert.equal(reasonKind(reject({ bid: '1e400' })), 'invalid_number');
});

void test('case 4: bids beyond 10^6 or with more than 6 decimals are rejected, the bounds themselves pass', () => {
  assert.match(reject({ bid: '1e12' }), /^invalid_bid: beyond 1000000/);
  assert.match(reject({ bid: '1000000.000001' }), /^invalid_bid: beyond/);
  assert.match(reject({ bid: '-1000001' }), /^invalid_bid: beyond/);
  assert.match(reject({ bid: '0.0000001' }), /^invalid_bid: more than 6 decimals/);
  assert.match(reject({ bid: '1.5e-7' }), /^invalid_bid: more than 6 decimals/);
  for (const ok of ['1000000', '1e6', '1000000.000000', '0.000001', '1.25e-4', '123456.654321', '-2.5', '.5', '0.1']) {
    const c = checkRecord(record({ bid: ok }));
    assert.ok(c.ok, `${ok}: ${c.ok ? '' : c.reason}`);
  }
});

/** Exact millionths of a decimal literal by BigInt arithmetic: independent of the code under test. */
function exactMicros(lit: string): bigint | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(lit)!;
  const frac = m[3] ?? '';
  let n = BigInt((m[2] ?? '') + frac || '0');
  let scale = frac.length - Number(m[4] ?? '0') - 6; // value = n / 10^(scale + 6) ... in millionths: n / 10^scale
  while (scale > 0) {
    if (n % 10n !== 0n) return undefined; // finer than a millionth
    n /= 10n;
    scale--;
  }
  while (scale < 0 && n !== 0n && n <= 10n ** 13n) {
    n *= 10n;
    scale++;
  }
  if (scale < 0 && n !== 0n) return undefined;
  return m[1] === '-' ? -n : n;
}

const literal = (maxExp: number) => fc
  .tuple(
    fc.constantFrom('', '+', '-'),
    fc.stringMatching(/^\d{0,9}$/),
    fc.option(fc.stringMatching(/^\d{0,9}$/), { nil: undefined }),
    fc.option(fc.integer({ min: -maxExp, max: maxExp }), { nil: undefined }),
  )
  .filter(([, i, f]) => i.length + (f ?? '').length > 0)
  .map(([s, i, f, e]) => `${s}${i}${f === undefined ? '' : `.${f}`}${e === undefined ? '' : `e${e}`}`);
const decimalLiteral = literal(12);

void test('property: an accepted bid is finite and a whole number of millionths within bounds; a refused one says why', () => {
  fc.assert(
    fc.property(decimalLiteral, (lit) => {
      const c = checkRecord(record({ bid: lit }));
      const exact = exactMicros(lit);
      const inBounds = exact !== undefined && exact <= 10n ** 12n && exact >= -(10n ** 12n);
      if (!c.ok) {
        assert.match(c.reason, /^invalid_(bid|number): /);
        assert.ok(!inBounds, `${lit} refused (${c.reason}) but its exact value ${exact} is in bounds`);
        return;
      }
      assert.ok(inBounds, `${lit} accepted but exact millionths are ${exact}`);
      const v = c.row.values[IDX.bid] as number;
      assert.ok(Number.isFinite(v));
      // The stream sums Math.round(bid * 1e6): it must be the literal's exact value.
      assert.equal(BigInt(Math.round(v * 1e6)), exact, lit);
      assert.equal(Number(String(v)), v);
    }),
    { numRuns: 3000 },
  );
});

void test('property: any text in a numeric column is a finite double that round-trips, or a reason', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 30 }), decimalLiteral, literal(400), fc.double().map(String)), fc.constantFrom('campaign_id', 'tz', 'v', 'ev'), (text, col) => {
      const c = checkRecord(record({ [col]: text }));
      if (!c.ok) {
        assert.match(c.reason, new RegExp(`^invalid_number: column ${col} `));
        return;
      }
      const v = c.row.values[TRACKING_COLUMNS.indexOf(col as (typeof TRACKING_COLUMNS)[number])];
      if (text.trim() === '') return assert.equal(v, null);
      assert.equal(typeof v, 'number');
      assert.ok(Number.isFinite(v as number));
      assert.equal(Number(String(v)), v);
      assert.equal(v, Number(text.trim()) + 0);
    }),
    { numRuns: 3000 },
  );
});

void test('header by name: reordered columns map, extra columns become extras, a missing non-essential is null', () => {
  const names: string[] = [...TRACKING_COLUMNS].reverse().filter((c) => c !== 'utm_term');
  names.splice(3, 0, 'tracker_version');
  const h = planColumns(names);
  assert.ok(h.ok);
  assert.match(h.warning ?? '', /1 unknown columns kept as extras \[tracker_version\]/);
  assert.match(h.warning ?? '', /utm_term/);
  const std = record({ utm_source: 'mail', bid: '2.5' });
  const fields = names.map((n) => (n === 'tracker_version' ? '4.2' : std[TRACKING_COLUMNS.indexOf(n as (typeof TRACKING_COLUMNS)[number])]!));
  const c = checkRecord(fields, undefined, h.plan);
  assert.ok(c.ok, c.ok ? '' : c.reason);
  assert.equal(c.row.values[IDX.bid], 2.5);
  assert.equal(c.row.values[IDX.jobId], 98);
  assert.equal(c.row.values[0], 7);
  assert.equal(c.row.values[TRACKING_COLUMNS.indexOf('utm_source')], 'mail');
  assert.equal(c.row.values[TRACKING_COLUMNS.indexOf('utm_term')], null);
  assert.deepEqual(c.row.extras, { tracker_version: '4.2' });
  assert.equal(checkRecord(fields.slice(1), undefined, h.plan).ok, false, 'column count follows the header');
});

void test('header: a missing essential column or a repeated name fails, naming columns but echoing no file text', () => {
  const missing = planColumns(TRACKING_COLUMNS.filter((c) => c !== 'bid' && c !== 'group_id'));
  assert.ok(!missing.ok);
  assert.match(missing.error, /lacks essential columns \[bid, group_id\]/);
  const dup = planColumns([...TRACKING_COLUMNS, 'bid']);
  assert.ok(!dup.ok);
  assert.match(dup.error, /repeats column names \["bid"\]/);
  const passwd = planColumns(['root:x:0:0:root:/root:/bin/bash']);
  assert.ok(!passwd.ok);
  assert.doesNotMatch(passwd.error, /root|bash/);
  assert.match(passwd.error, /lacks essential columns \[create_time, custom_track, job_id, bid, campaign_id, group_id, publisher_id\] \(it has 1 columns, 0 known\)/);
  const twice = planColumns(['secret-token-value', 'secret-token-value', ...TRACKING_COLUMNS]);
  assert.ok(!twice.ok);
  assert.doesNotMatch(twice.error, /secret/);
});
