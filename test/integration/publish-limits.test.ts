/**
 * Publish against hostile lake rows (issue 13, cases 3 and 8): sends split under the broker's limit, a row
 * that can never be a message quarantined with stage `publish`, and no batch left blocking the next.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, test } from 'node:test';
import type { RowDataPacket } from 'mysql2/promise';
import { makeTimeUuid } from '../../lib/domain/timeuuid';
import { publishPendingCore } from '../../lib/publish/publisher';
import { reconcile } from '../../lib/reconcile/gather';
import { runConsumeLease } from '../../lib/stream/consumer';
import { openTestStack } from '../support/env';
import type { TestStack } from '../support/env';

const stacks: TestStack[] = [];
after(async () => {
  for (const s of stacks) await s.close().catch(() => undefined);
});

interface QueueRow {
  job_id: number | null;
  custom_track: string;
  bid: number | null;
}

let n = 0;
/** Writes an ingested batch straight into the lake's publish queue, as ingest leaves it. */
async function queueBatch(s: TestStack, batch: string, rows: QueueRow[]): Promise<void> {
  const ks = s.config.cassandra.keyspace;
  const c = s.deps.cassandra;
  for (let seq = 0; seq < rows.length; seq++) {
    const r = rows[seq]!;
    n += 1;
    const id = makeTimeUuid(Date.UTC(2022, 6, 8, 9) + n, n % 10_000, n, '0a0b0c0d0e0f');
    await c.execute(
      `INSERT INTO ${ks}.publish_queue (ingest_batch, chunk, seq, create_time, hour, job_id, custom_track, bid, campaign_id, group_id, publisher_id)
       VALUES (?, 0, ?, ?, '2022-07-08T09', ?, ?, ?, 1, 2, 3)`,
      [batch, seq, id, r.job_id, r.custom_track, r.bid],
      { prepare: true },
    );
  }
  await c.execute(
    `INSERT INTO ${ks}.ingest_batches (ingest_batch, status, rows_read, written, already_present, rejected, max_chunk) VALUES (?, 'ingested', ?, ?, 0, 0, 0)`,
    [batch, rows.length, rows.length],
    { prepare: true },
  );
  await c.execute(`INSERT INTO ${ks}.publish_pending (shard, ingest_batch, enqueued_at) VALUES (0, ?, toTimestamp(now()))`, [batch], { prepare: true });
}

const randomText = (bytes: number) => crypto.randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes);

void test('case 8 and 3: an oversized page is split, unfit rows are quarantined, the next batch is published', { timeout: 240_000 }, async () => {
  const s = await openTestStack('publimits');
  stacks.push(s);
  // Batch A: 5,000 events of one job (one partition) with 2,000 random characters each: ~7.5 MB compressed.
  const a: QueueRow[] = Array.from({ length: 5000 }, () => ({ job_id: 98, custom_track: randomText(2000), bid: 1 }));
  a[1234] = { job_id: 98, custom_track: randomText(1_600_000), bid: 1 }; // ~1.2 MB gzip'd: can never fit 1 MiB
  a[2000] = { job_id: 98, custom_track: 'click', bid: Infinity }; // case 3: must not count as a click with bid 0
  await queueBatch(s, 'batch-a', a);
  await queueBatch(s, 'batch-b', Array.from({ length: 10 }, () => ({ job_id: 98, custom_track: 'click', bid: 1.5 })));

  const deps = {
    cassandra: s.deps.cassandra, kafka: s.deps.kafka, keyspace: s.config.cassandra.keyspace,
    topic: s.config.kafka.topic, partitions: s.config.kafka.partitions,
  };
  const summary = await publishPendingCore(deps);
  assert.deepEqual([summary.published, summary.quarantined, summary.ingestBatches], [5008, 2, ['batch-a', 'batch-b']]);

  const q = await s.deps.cassandra.execute(
    `SELECT ingest_batch, stage, line_number, reason FROM ${s.config.cassandra.keyspace}.quarantine WHERE ingest_batch = 'batch-a'`,
  );
  assert.deepEqual(q.rows.map((r) => [r['stage'], Number(r['line_number'])]).sort(), [['publish', 1234], ['publish', 2000]]);
  const reasons = new Map(q.rows.map((r) => [Number(r['line_number']), String(r['reason'])]));
  assert.match(reasons.get(1234)!, /MESSAGE_TOO_LARGE|too large/i);
  assert.match(reasons.get(2000)!, /bid must be a finite number/);

  const lease = await runConsumeLease(s.deps, { leaseMs: 60_000, stopWhenCaughtUp: true });
  assert.equal(lease.endReason, 'caught-up');
  const [rows] = await s.deps.mysql.query<RowDataPacket[]>('SELECT job_id, clicks, CAST(bid_sum AS CHAR) s FROM events');
  assert.deepEqual(rows.map((r) => [Number(r['job_id']), Number(r['clicks']), r['s']]), [[98, 10, '15.000000']]);
  const rec = await reconcile(s.deps);
  assert.deepEqual(rec.checks.filter((c) => c.status !== 'ok').map((c) => c.id), []);
  assert.equal(rec.status, 'ok');
});
