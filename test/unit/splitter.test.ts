import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseFields } from '../../lib/ingest/fields';
import { RecordSplitter, type Piece } from '../../lib/ingest/splitter';
import { readCsv, judge } from '../support/reference';

// Over 200 bytes: a reject shows its first 200 bytes, which a smaller limit would cut short.
const LIMITS = { maxRecordBytes: 210, maxRecordFields: 8 };

function split(text: string, cuts: number[]): Piece[] {
  const sp = new RecordSplitter(LIMITS);
  const out: Piece[] = [];
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    sp.push(text.slice(at, Math.max(at, c)), out);
    at = Math.max(at, c);
  }
  sp.push(text.slice(at), out);
  sp.end(out);
  parseFields(out);
  return out;
}

const csvText = fc
  .array(fc.constantFrom('a', 'b', ',', '"', '""', '\n', '\r\n', '\r', 'x'.repeat(60), ',,,,,,,,,,'), { maxLength: 60 })
  .map((parts) => 'h1,h2,h3\n' + parts.join(''));

void test('property: where the chunks are cut never changes the records, rejects or line numbers', () => {
  fc.assert(
    fc.property(csvText, fc.array(fc.nat(400), { maxLength: 8 }), (text, cuts) => {
      assert.deepEqual(split(text, cuts), split(text, []));
    }),
    { numRuns: 3000 },
  );
});

void test('a record over both limits gives the same reason wherever the read is cut', () => {
  const text = 'h1,h2,h3\n,,,,,,,,,,' + 'x'.repeat(240) + '\n';
  const reasons = [split(text, []), split(text, [220])].map((out) => out.filter((p) => p.kind === 'reject').map((p) => p.reason));
  assert.deepEqual(reasons, [
    ['record_too_large: 250 bytes, over the 210-byte limit, line 2'],
    ['record_too_large: 250 bytes, over the 210-byte limit, line 2'],
  ]);
});

void test('property: records the splitter accepts are the reference reader records, with the same fields and lines', () => {
  fc.assert(
    fc.property(csvText, (text) => {
      const mine = split(text, []).filter((p): p is Extract<Piece, { kind: 'record' }> => p.kind === 'record');
      const ref = readCsv(Buffer.from(text, 'latin1')).filter((r) => {
        const v = judge(r);
        return !(!v.ok && (v.kind === 'unparsable' || v.kind === 'record_too_large')) && r.bytes <= LIMITS.maxRecordBytes && r.fields.length <= LIMITS.maxRecordFields;
      });
      // The reference's limits are the contract's (1 MiB); with small ones the reference may still see a record
      // the splitter rejected, never the other way round.
      const refKeys = new Set(ref.map((r) => `${r.line}:${r.fields.map((f) => f.toString('latin1')).join('|')}`));
      for (const m of mine) {
        if (m.raw.length > LIMITS.maxRecordBytes) continue;
        assert.ok(refKeys.has(`${m.line}:${m.fields.join('|')}`), `splitter record at line ${m.line} [${m.fields.join('|')}] not in the reference: ${JSON.stringify(text)}`);
      }
    }),
    { numRuns: 3000 },
  );
});
