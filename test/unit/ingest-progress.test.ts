import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { estimateRows, fileDoneLine, formatDuration, nextRate, progressLine } from '../../scripts/cli/ingestProgress';
import type { IngestProgress } from '../../workflows';

const ingesting = (over: Partial<IngestProgress> = {}): IngestProgress => ({
  phase: 'ingesting', total: 2, done: 0, current: '/l/tracking.csv', files: [],
  publish: { published: 0, batches: 0, quarantined: 0, ingestBatches: [], more: false, durationMs: 0, rounds: 0 }, ...over,
});

test('rows are estimated from the first 256 KiB, plain or gzipped, exactly for a small file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'progress-'));
  try {
    const line = 'a,b,c,d,e,f,g,h,i,j,0123456789012345678901234567890123456789\n'; // 62 bytes
    const body = 'h1,h2\n' + line.repeat(100_000);
    fs.writeFileSync(path.join(dir, 'big.csv'), body);
    fs.writeFileSync(path.join(dir, 'small.csv'), 'h\n1\n2\n3\n');
    fs.writeFileSync(path.join(dir, 'big.csv.gz'), zlib.gzipSync(body));
    const big = estimateRows(path.join(dir, 'big.csv'))!;
    assert.ok(Math.abs(big - 100_000) < 100, String(big));
    assert.equal(estimateRows(path.join(dir, 'small.csv')), 3);
    assert.ok(estimateRows(path.join(dir, 'big.csv.gz'))! > 0);
    assert.equal(estimateRows(path.join(dir, 'missing.csv')), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('rate from successive heartbeats, ETA from the estimate, a bar only on a TTY, the batch id always', () => {
  const r1 = nextRate(undefined, '/l/tracking.csv', 0, 0, () => 100_000);
  const r2 = nextRate(r1, '/l/tracking.csv', 20_000, 5_000, () => 0);
  assert.equal(r2.rate, 4_000);
  assert.equal(r2.estimatedRows, 100_000);
  const hb = { rowsRead: 20_000, ingestBatch: 'b123' };
  assert.equal(progressLine(ingesting(), hb, r2, false), 'ingesting 1/2: /l/tracking.csv: 20,000/~100,000 rows, 4,000 rows/s, ETA 20s, batch b123');
  assert.match(progressLine(ingesting(), hb, r2, true), /^\[####----------------\] ingesting 1\/2/);
  assert.equal(progressLine(ingesting(), undefined, undefined, false), 'ingesting 1/2: /l/tracking.csv');
  const other = nextRate(r2, '/l/other.csv', 10, 6_000, () => undefined);
  assert.equal(other.rate, 0, 'a new file starts a new rate');
  assert.equal(formatDuration(3725), '1h02m');
  assert.match(fileDoneLine({ path: '/l/t.csv', status: 'ingested', summary: { file: '/l/t.csv', contentHash: 'h', ingestBatch: 'b9', status: 'ingested', rowsRead: 5, written: 4, alreadyPresent: 0, rejected: 1, resumedFromLine: 0, durationMs: 1 } }), /batch b9, 5 rows read, 4 written, 1 rejected/);
});
