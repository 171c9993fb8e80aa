import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import type { SizedExport } from '../../bench/hostile';
import { writeSizedExport } from '../../bench/hostile';
import { checkRecord } from '../../lib/domain/tracking';
import { readCsvRecords } from '../../lib/ingest/reader';
import type { IngestRun } from '../../bench/hostileIngest';
import { runHostileIngest, toRun } from '../../bench/hostileIngest';
import { checkHostileTargets, hostileSummary } from '../../bench/report';

// The hostile-ingest figures and targets of `npm run bench`, against numbers worked out by hand.

const exportOf = (hostile: boolean): SizedExport => ({
  file: hostile ? 'hostile.csv' : 'clean.csv', hostile, bytes: 200_000_000, lines: 500_000,
  injected: hostile ? { oversized_record: 2, comma_line: 1 } : {}, injectedBytes: hostile ? 8_000_000 : 0,
});

/** A child run: 200 MB in `seconds`, `rows` records, peak RSS `rss`. */
const child = (seconds: number, rows: number, rss: number): IngestRun =>
  toRun(
    { file: 'x', bytes: 200_000_000, seconds, rowsRead: rows, written: rows - 500, rejected: 500, cpuSeconds: 30 },
    { pid: 1, cpuSeconds: 31, rssStartMb: 90, rssPeakMb: rss, rssEndMb: rss - 10 },
  );

async function measure(clean: IngestRun, hostile: IngestRun) {
  return runHostileIngest({ clean: exportOf(false), hostile: exportOf(true) }, {
    seed: 1,
    log: () => undefined,
    runChild: async (e) => (e.hostile ? hostile : clean),
  });
}

void test('hostile ingest: 40 s clean and 44 s hostile for the same 200 MB is 90.9% (PASS), RSS 271/299 MB (PASS)', async () => {
  // 200 MB / 40 s = 5 MB/s; 200 MB / 44 s = 4.545 MB/s; 40/44 = 0.909. Rows: 500,000/40 = 12,500/s; 480,000/44 = 10,909/s.
  const h = await measure(child(40, 500_000, 271), child(44, 480_000, 299));
  assert.equal(h.clean.mbPerSecond, 5);
  assert.equal(h.hostile.mbPerSecond, 4.55);
  assert.equal(h.throughputRatio, 0.909);
  assert.equal(h.clean.rowsPerSecond, 12_500);
  assert.equal(h.hostile.rowsPerSecond, 10_909);
  assert.equal(h.rowsRatio, 0.873);
  const [tp, rss] = checkHostileTargets(h);
  assert.equal(tp!.pass, true);
  assert.equal(tp!.measured, '4.55 / 5 MB/s = 90.9%');
  assert.equal(rss!.pass, true);
  assert.equal(rss!.measured, '271 / 299 MB');
  assert.match(hostileSummary(h), /90\.9% of MB\/s, 87\.3% of rows\/s/);
  assert.match(hostileSummary(h), /8\.0 MB, 4\.0% of the bytes/);
});

void test('hostile ingest: 45 s against 40 s is 88.9% (MISS); 300 MB in either run misses the RSS target', async () => {
  const slow = await measure(child(40, 500_000, 250), child(45, 480_000, 250));
  assert.equal(slow.throughputRatio, 0.889);
  assert.equal(checkHostileTargets(slow)[0]!.pass, false);
  assert.equal(checkHostileTargets(slow)[1]!.pass, true);
  const heavyClean = await measure(child(40, 500_000, 300), child(40, 480_000, 200));
  assert.equal(heavyClean.throughputRatio, 1);
  assert.equal(checkHostileTargets(heavyClean)[0]!.pass, true);
  assert.equal(checkHostileTargets(heavyClean)[1]!.pass, false);
});

void test('hostile export: same size as the clean one, and each injected kind comes back from the reader as its reject', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbench-'));
  try {
    const bytes = 6_000_000;
    const clean = await writeSizedExport(path.join(dir, 'clean.csv'), { bytes, seed: 7, hostile: false });
    const hostile = await writeSizedExport(path.join(dir, 'hostile.csv'), { bytes, seed: 7, hostile: true });
    assert.equal(fs.statSync(clean.file).size, clean.bytes);
    assert.equal(fs.statSync(hostile.file).size, hostile.bytes);
    // Cut at the first line end past the target: over by less than one line (the last one is a plain row).
    for (const e of [clean, hostile]) assert.ok(e.bytes >= bytes && e.bytes < bytes + 2000, `${e.bytes}`);
    assert.deepEqual(clean.injected, {});
    // 6 MB: one oversized record (6 MB / 64 MiB rounds down to 0, at least 1) and one comma line of 2 MiB
    // (30 MB x 6 MB / 1 GiB is 168 KB, raised to the 2 MiB floor), at 30% and 50% of the size.
    assert.equal(hostile.injected.oversized_record, 1);
    assert.equal(hostile.injected.comma_line, 1);
    const seen: Record<string, number> = {};
    let header = true;
    for await (const rec of readCsvRecords(hostile.file)) {
      if (header) {
        header = false;
        continue;
      }
      const reason = rec.parseError ?? (() => {
        const c = checkRecord(rec.fields, rec.invalidUtf8Column);
        return c.ok ? 'ok' : c.reason;
      })();
      const kind = reason.split(':', 1)[0]!;
      seen[kind] = (seen[kind] ?? 0) + 1;
    }
    const n = (k: string): number => hostile.injected[k as keyof typeof hostile.injected] ?? 0;
    assert.ok(n('too_many_fields') > 0 && n('unclosed_quote') > 0);
    assert.equal(seen['record_too_large'], n('oversized_record') + n('comma_line') + n('too_many_fields'));
    assert.equal(seen['unparsable'], n('unclosed_quote') + n('bad_closing_quote'));
    assert.equal(seen['invalid_utf8'], n('invalid_utf8'));
    assert.equal(seen['column_count'], n('column_count'));
    assert.equal(seen['invalid_number'], n('non_finite'));
    assert.equal(seen['invalid_bid'], n('bid_out_of_bounds'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
