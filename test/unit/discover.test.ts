import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { test } from 'node:test';
import { classifyFile, classifyHeader, headerColumns } from '../../lib/ingest/discover';
import { TRACKING_COLUMNS } from '../../lib/domain/tracking';
import { JOB_COLUMNS } from '../../lib/domain/jobRecord';

test('a tracking export is recognised by its essential columns, whatever their order or extra columns', () => {
  assert.equal(classifyHeader(headerColumns(TRACKING_COLUMNS.join(','))), 'tracking');
  assert.equal(classifyHeader(['publisher_id', 'job_id', 'extra', 'bid', 'create_time', 'custom_track', 'campaign_id', 'group_id']), 'tracking');
  assert.equal(classifyHeader(['job_id', 'bid', 'create_time', 'custom_track', 'campaign_id', 'group_id']), 'other', 'publisher_id missing');
});

test('a job export is recognised by its 30 columns; anything else is other', () => {
  assert.equal(classifyHeader(headerColumns(`\uFEFF${JOB_COLUMNS.map((c) => `"${c}"`).join(',')}\r`)), 'job');
  assert.equal(classifyHeader(['owner', 'comment']), 'other');
  assert.equal(classifyHeader([]), 'other');
});

test('files are classified by their first line, through gunzip, and a corrupt gzip is other', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'discover-'));
  try {
    fs.writeFileSync(path.join(dir, 'job.csv'), `${JOB_COLUMNS.join(',')}\n1,2,3\n`);
    fs.writeFileSync(path.join(dir, 't.csv.gz'), zlib.gzipSync(`${TRACKING_COLUMNS.join(',')}\n`));
    fs.writeFileSync(path.join(dir, 'bad.csv.gz'), 'not gzip at all');
    fs.writeFileSync(path.join(dir, 'empty.csv'), '');
    assert.equal(await classifyFile(path.join(dir, 'job.csv')), 'job');
    assert.equal(await classifyFile(path.join(dir, 't.csv.gz')), 'tracking');
    assert.equal(await classifyFile(path.join(dir, 'bad.csv.gz')), 'other');
    assert.equal(await classifyFile(path.join(dir, 'empty.csv')), 'other');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
