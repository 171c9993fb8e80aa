import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { REPO_ROOT } from '../../lib/config';
import { eventIdKey } from '../../lib/stream/commit';
import { pruneLedger } from '../../lib/stream/ledger';
import { isolatedEnv, openTestStack } from '../support/env';
import type { TestStack } from '../support/env';

let s: TestStack;
before(async () => {
  s = await openTestStack('ledger');
});
after(async () => {
  await s?.close();
});

const ids = {
  old1: '00000001-0d60-11ed-90e9-7cd44fe229db',
  old2: '00000002-0d60-11ed-90e9-7cd44fe229db',
  old3: '00000003-0d60-11ed-90e9-7cd44fe229db',
  recent1: '00000004-0d60-11ed-90e9-7cd44fe229db',
  recent2: '00000005-0d60-11ed-90e9-7cd44fe229db',
};

async function count(): Promise<number> {
  const [rows] = await s.deps.mysql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM counted_events');
  return Number(rows[0]?.['n']);
}

void test('ledger prune deletes ids counted before the cutoff, in chunks, and keeps the rest', async () => {
  const insert = (id: string, daysAgo: number) =>
    s.deps.mysql.query('INSERT INTO counted_events (event_id, partition_id, kafka_offset, counted_at) VALUES (?, 0, 1, NOW() - INTERVAL ? DAY)', [
      eventIdKey(id),
      daysAgo,
    ]);
  for (const id of [ids.old1, ids.old2, ids.old3]) await insert(id, 40);
  for (const id of [ids.recent1, ids.recent2]) await insert(id, 1);

  const r = await pruneLedger(s.deps.mysql, { olderThanDays: 30, batchSize: 2 });
  assert.equal(r.deleted, 3);
  assert.equal(r.statements, 2, 'a full chunk of 2, then a short one of 1 ends the loop');
  assert.equal(r.remaining, 2);
  const [rows] = await s.deps.mysql.query<RowDataPacket[]>('SELECT event_id FROM counted_events ORDER BY event_id');
  assert.deepEqual(
    rows.map((x) => (x['event_id'] as Buffer).toString('hex')),
    [eventIdKey(ids.recent1), eventIdKey(ids.recent2)].map((b) => b.toString('hex')).sort(),
  );
  // Nothing is older than 30 days any more.
  assert.equal((await pruneLedger(s.deps.mysql, { olderThanDays: 30 })).deleted, 0);
});

void test('trackflow ledger prune: --json result, and exit 2 with a message for bad usage', async () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'trackflow'), 'ledger', ...args], {
      env: isolatedEnv(s.config),
      encoding: 'utf8',
      timeout: 60_000,
    });
  const before = await count();
  assert.ok(before >= 2, 'the first test left its recent ids');
  const ok = cli('prune', '--older-than', '0.5', '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const out = JSON.parse(ok.stdout) as { deleted: number; remaining: number; cutoff: string };
  assert.equal(out.deleted, before);
  assert.equal(out.remaining, 0);
  assert.match(out.cutoff, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);

  const missing = cli('prune');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /required option '--older-than <days>' not specified/);
  const negative = cli('prune', '--older-than', '-3');
  assert.equal(negative.status, 2);
  assert.match(negative.stderr, /argument '-3' is invalid. must be a positive number/);
});
