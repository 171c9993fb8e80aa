/**
 * Property tests (fast-check) over the message codec and the decimal formatting: for any input, a value is
 * finite and round-trips exactly, or it is rejected with a reason. Expected values are computed here, by
 * other means than the code under test (string arithmetic, inverse checks).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PoisonMessageError, decodeMessage, encodeMessage, encodeMessageV2 } from '../../lib/domain/message';
import type { DecodedMessage, TrackingMessageV1 } from '../../lib/domain/message';
import { aggregate, bidSet, classify, decimalMicros, eventHour, microsToDecimal } from '../../lib/domain/transform';
import { timeUuidMillis } from '../../lib/domain/timeuuid';
import type { CountableEvent } from '../../lib/domain/transform';
import { referenceMicros } from '../support/messageReference';

const RUNS = { numRuns: 2000 };

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const timeUuid = fc
  .tuple(hex(8), hex(4), hex(3), fc.constantFrom('8', '9', 'a', 'b'), hex(3), hex(12))
  .map(([a, b, c, v, d, e]) => `${a}-${b}-1${c}-${v}${d}-${e}`);
const anyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Infinity, -Infinity, NaN, 2 ** 53, -0, 1e400, 0.1, 999_999_999_999.99),
);
const nullableNumber = fc.option(anyNumber, { nil: null });
const batchName = fc.oneof(fc.string({ minLength: 1, maxLength: 70 }), fc.string({ unit: 'grapheme', minLength: 60, maxLength: 70 }));
const message = fc.record(
  {
    v: fc.constant(1 as const),
    event_id: timeUuid,
    ts: fc.string(),
    job_id: nullableNumber,
    custom_track: fc.option(fc.oneof(fc.constantFrom('click', 'conversion', 'qualified', 'unqualified', 'alive'), fc.string()), { nil: null }),
    bid: nullableNumber,
    campaign_id: nullableNumber,
    group_id: nullableNumber,
    publisher_id: nullableNumber,
    pub: fc.tuple(batchName, fc.nat({ max: 10 ** 15 - 1 })).map(([b, s]) => `${b}:${s}`),
  },
  { requiredKeys: ['v', 'event_id', 'ts', 'job_id', 'custom_track', 'bid', 'campaign_id', 'group_id', 'publisher_id'] },
) as fc.Arbitrary<TrackingMessageV1>;

const NUMERIC = ['job_id', 'bid', 'campaign_id', 'group_id', 'publisher_id'] as const;
/** The contract's reasons to refuse a message, decided here without the codec. */
function expectedRefusal(m: TrackingMessageV1): 'non-finite' | 'pub' | undefined {
  if (NUMERIC.some((f) => m[f] !== null && !Number.isFinite(m[f]))) return 'non-finite';
  if (m.pub !== undefined) {
    const at = m.pub.lastIndexOf(':');
    const batch = m.pub.slice(0, at);
    if (batch.includes(':') || batch === '' || Array.from(batch).length > 64) return 'pub';
  }
  return undefined;
}

test('property: encode then decode returns the message exactly, or refuses it with a reason', () => {
  fc.assert(
    fc.property(message, (m) => {
      const refusal = expectedRefusal(m);
      let decoded: DecodedMessage;
      try {
        decoded = decodeMessage(encodeMessage(m));
      } catch (err) {
        assert.ok(err instanceof PoisonMessageError, String(err));
        assert.ok(err.message.length > 10);
        assert.notEqual(refusal, undefined, `refused a valid message: ${err.message}`);
        return;
      }
      assert.equal(refusal, undefined, 'accepted a message the contract refuses');
      // -0 is the one double JSON does not keep; it is the same id and the same bid.
      const same = (x: number | null) => (Object.is(x, -0) ? 0 : x);
      assert.deepEqual(decoded, { ...m, ...Object.fromEntries(NUMERIC.map((f) => [f, same(m[f])])) });
      for (const f of NUMERIC) assert.ok(decoded[f] === null || Number.isFinite(decoded[f]));
    }),
    RUNS,
  );
});

/** The position a pub text names, split here by hand: the batch before the last colon, the seq after it. */
function expectedOrigin(pub: string | undefined): { batch: string; seq: number } | undefined {
  if (pub === undefined) return undefined;
  const at = pub.lastIndexOf(':');
  return { batch: pub.slice(0, at), seq: Number(pub.slice(at + 1)) };
}

test('property: v2 encode then decode returns the fields exactly (no ts, the position parsed), or refuses for the v1 reasons', () => {
  fc.assert(
    fc.property(message, (m) => {
      const refusal = expectedRefusal(m);
      let decoded: DecodedMessage;
      try {
        decoded = decodeMessage(encodeMessageV2(m));
      } catch (err) {
        assert.ok(err instanceof PoisonMessageError, String(err));
        assert.notEqual(refusal, undefined, `refused a valid message: ${err.message}`);
        return;
      }
      assert.equal(refusal, undefined, 'accepted a message the contract refuses');
      const same = (x: number | null) => (Object.is(x, -0) ? 0 : x);
      const origin = expectedOrigin(m.pub);
      assert.deepEqual(decoded, {
        v: 2,
        event_id: m.event_id,
        job_id: same(m.job_id),
        custom_track: m.custom_track,
        bid: same(m.bid),
        campaign_id: same(m.campaign_id),
        group_id: same(m.group_id),
        publisher_id: same(m.publisher_id),
        ...(origin ? { origin } : {}),
      });
    }),
    RUNS,
  );
});

test('property: a message classifies the same from v1 and from v2, refusals included', () => {
  const outcome = (encode: (m: TrackingMessageV1) => string, m: TrackingMessageV1) => {
    try {
      const d = decodeMessage(encode(m));
      return { classified: classify(d), origin: d.origin ?? expectedOrigin(d.pub) };
    } catch (err) {
      assert.ok(err instanceof PoisonMessageError || err instanceof TypeError || err instanceof RangeError, String(err));
      return { refused: true };
    }
  };
  fc.assert(
    fc.property(message, (m) => {
      assert.deepEqual(outcome(encodeMessageV2, m), outcome(encodeMessage, m));
    }),
    RUNS,
  );
});

test('property: decoding any bytes returns a finite message or throws PoisonMessageError, never anything else', () => {
  const json = fc.oneof(
    fc.json(),
    message.map((m) => JSON.stringify(m)),
    message.map((m) => JSON.stringify(m).replace(/("bid":)[^,}]+/, '$11e400')),
    message.map((m) => JSON.stringify([2, m.event_id, m.job_id, m.custom_track, m.bid, m.campaign_id, m.group_id, m.publisher_id, 'b', 1])),
    message.map((m) => JSON.stringify([2, m.event_id, m.job_id, m.custom_track, '1e400', 1, 2, 3, null, null]).replace('"1e400"', '1e400')),
    fc.array(fc.jsonValue(), { maxLength: 12 }).map((a) => JSON.stringify([2, ...a])),
    fc.string(),
  );
  fc.assert(
    fc.property(json, fc.nat(), (text, cut) => {
      for (const input of [text, text.slice(0, cut % (text.length + 1)), Buffer.from(text)]) {
        try {
          const d = decodeMessage(input);
          for (const f of NUMERIC) assert.ok(d[f] === null || Number.isFinite(d[f]), `${f}=${d[f]}`);
        } catch (err) {
          assert.ok(err instanceof PoisonMessageError, String(err));
        }
      }
    }),
    RUNS,
  );
});

/** Millionths of a decimal text, by string arithmetic: pad, shift the point, round half away from zero. */
function textMicros(text: string): bigint {
  const neg = text.startsWith('-');
  const [whole, frac = ''] = (neg ? text.slice(1) : text).split('.');
  const padded = (frac + '0000000').slice(0, 7);
  let micros = BigInt(whole! + padded.slice(0, 6));
  if (Number(padded[6]) >= 5) micros += 1n;
  return neg ? -micros : micros;
}

/** Bids written with up to 15 significant digits and 0..9 decimals, below 10^12: a double keeps their text. */
const bidText = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }), fc.integer({ min: 0, max: 9 }), fc.boolean())
  .map(([digits, decimals, neg]) => {
    const s = digits.toString().padStart(decimals + 1, '0');
    const text = decimals ? `${s.slice(0, -decimals)}.${s.slice(-decimals)}` : s;
    return (neg && digits !== 0n ? '-' : '') + text;
  })
  .filter((t) => Math.abs(Number(t)) < 1e12);

test('property: a bid becomes the exact millionths of its decimal text, rounded half away from zero', () => {
  fc.assert(
    fc.property(bidText, (text) => {
      assert.equal(decimalMicros(Number(text)), textMicros(text));
    }),
    RUNS,
  );
});

test('property: any double below 10^12 becomes the millionths of its shortest text (exponent forms included)', () => {
  const doubles = fc.oneof(
    fc.double({ min: -1e12, max: 1e12, noNaN: true }),
    fc.double({ min: -1e-5, max: 1e-5, noNaN: true }),
    fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((c) => c / 1e6 + 5e-7),
  );
  fc.assert(
    fc.property(doubles, (n) => {
      assert.equal(decimalMicros(n), referenceMicros(n), String(n));
    }),
    { numRuns: 20_000 },
  );
});

test('property: any sum of millionths prints exactly (the text parses back to the same integer)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (micros) => {
      const text = microsToDecimal(micros);
      assert.match(text, /^-?\d+\.\d{6}$/);
      assert.equal(BigInt(text.replace('.', '')), micros);
    }),
    RUNS,
  );
});

test('property: bid_set is the average rounded half away from zero to cents, for any sum and click count', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (sum, clicks) => {
      const text = bidSet(sum, clicks);
      assert.ok(text !== null && /^-?\d+\.\d{2}$/.test(text), String(text));
      const cents = BigInt(text.replace('.', ''));
      // |cents * clicks * 10^4 - sum| <= half a cent of the average, ties away from zero.
      const unit = BigInt(clicks) * 10_000n;
      const diff = cents * unit - sum;
      const twice = 2n * (diff < 0n ? -diff : diff);
      assert.ok(twice <= unit, `${sum}/${clicks} -> ${text}`);
      if (twice === unit) assert.ok((diff > 0n) === (sum > 0n), `tie must go away from zero: ${sum}/${clicks} -> ${text}`);
    }),
    RUNS,
  );
});

test('property: a group of any clicks at bids below 10^12 sums to the exact total of their texts', () => {
  const base: TrackingMessageV1 = {
    v: 1, event_id: '26eb3150-0d61-11ed-9fd0-70c372b40ff7', ts: '', job_id: 1, custom_track: 'click',
    bid: 0, campaign_id: 1, group_id: 1, publisher_id: 1,
  };
  fc.assert(
    fc.property(fc.array(bidText, { minLength: 1, maxLength: 300 }), (texts) => {
      const events = texts.map((t) => (classify({ ...base, bid: Number(t) }) as { event: CountableEvent }).event);
      const [g] = aggregate(events);
      const expected = texts.reduce((s, t) => s + textMicros(t), 0n);
      assert.equal(g!.bidSumMicros, expected);
      assert.equal(BigInt(microsToDecimal(g!.bidSumMicros).replace('.', '')), expected);
    }),
    { numRuns: 300 },
  );
});

test('property: the event hour is the UTC date and hour of the id\'s time, before 1970 and after 9999 too', () => {
  fc.assert(
    fc.property(timeUuid, (id) => {
      const iso = new Date(timeUuidMillis(id)).toISOString();
      assert.deepEqual(eventHour(id), { dates: iso.slice(0, 10), hours: new Date(timeUuidMillis(id)).getUTCHours() });
      assert.deepEqual(eventHour(id), eventHour(id.toUpperCase()));
    }),
    RUNS,
  );
});
