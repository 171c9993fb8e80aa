import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMysqlAdminPool } from '../../lib/clients/mysql';
import type { Manifest } from '../../lib/domain/generator';
import { writeDataset } from '../../lib/domain/generator';
import { ingestFileCore } from '../../lib/ingest/ingest';
import { loadJobsCore } from '../../lib/ingest/jobCatalogueLoader';
import { publishPendingCore } from '../../lib/publish/publisher';
import { evaluate } from '../../lib/reconcile/equations';
import { gatherReconcile, reconcile } from '../../lib/reconcile/gather';
import { readPendingBatches, readTopicLag } from '../../lib/reconcile/lag';
import { readStoredOffsets } from '../../lib/stream/commit';
import { runConsumeLease } from '../../lib/stream/consumer';
import type { TestStack } from '../support/env';
import { openTestStack } from '../support/env';

describe('reconcile against the real stack', () => {
  let stack: TestStack;
  let dir: string;
  let manifest: Manifest;
  let batch: string;

  before(async () => {
    stack = await openTestStack('reconcile');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-reconcile-'));
    const data = await writeDataset(dir, { events: 3000, seed: 20240611, badRate: 0.02, days: 2 });
    manifest = data.manifest;
    const { deps, config } = stack;
    await loadJobsCore(deps.mysql, { path: data.jobFile });
    const ingest = await ingestFileCore({ cassandra: deps.cassandra, keyspace: config.cassandra.keyspace }, { path: data.trackingFile });
    batch = ingest.ingestBatch;
    await publishPendingCore({
      cassandra: deps.cassandra,
      kafka: deps.kafka,
      keyspace: config.cassandra.keyspace,
      topic: config.kafka.topic,
      partitions: config.kafka.partitions,
    });
    await runConsumeLease(deps, { leaseMs: 60_000, stopWhenCaughtUp: true });
  });

  after(async () => {
    await stack?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every stage adds up and matches the generator manifest', async () => {
    const input = await gatherReconcile(stack.deps);
    const result = evaluate(input);
    assert.equal(result.status, 'ok', JSON.stringify(result.checks.filter((c) => c.status !== 'ok')));
    const { lake, stream } = input;
    assert.ok(stream);
    assert.equal(lake.rowsRead, manifest.totalRows);
    assert.equal(lake.rejected, manifest.badRows);
    assert.equal(lake.written + lake.alreadyPresent, manifest.validRows);
    assert.equal(lake.batchesIngested, 1);
    assert.equal(lake.batchesPublishing, 0);
    assert.equal(lake.published + lake.publishQuarantined, lake.written);
    assert.equal(stream.consumed, lake.published);
    assert.equal(stream.redelivered, 0);
    assert.equal(stream.lag, 0);
    assert.ok(stream.counted > 0 && stream.filtered > 0 && stream.unattributed > 0, JSON.stringify(stream));
  });

  test('wait condition: nothing pending, stored offsets at the high watermarks', async () => {
    const { config, deps } = stack;
    assert.deepEqual(await readPendingBatches(deps.cassandra, config.cassandra.keyspace), []);
    const offsets = await readStoredOffsets(deps.mysql, config.kafka.consumerGroup, config.kafka.topic);
    const lag = await readTopicLag(deps.kafka, config.kafka.topic, offsets);
    assert.equal(lag.topicExists, true);
    assert.equal(lag.lag, 0);
    assert.equal(lag.partitions.reduce((n, p) => n + p.high, 0), manifest.validRows);
  });

  test('per batch: lake side checked, stream side skipped', async () => {
    const r = await reconcile(stack.deps, { batch });
    assert.equal(r.status, 'ok');
    assert.equal(r.stages.find((s) => s.key === 'rows_read')?.value, manifest.totalRows);
    assert.deepEqual(
      r.checks.filter((c) => c.status === 'skipped').map((c) => c.id),
      ['transport', 'stream', 'warehouse'],
    );
    await assert.rejects(reconcile(stack.deps, { batch: 'b00000000000000000000' }), /no ingest batch/);
  });

  test('a warehouse row changed behind the stream makes reconcile fail', async () => {
    const admin = createMysqlAdminPool(stack.config.mysql, { database: stack.config.mysql.database });
    try {
      const [res] = await admin.query('UPDATE events SET clicks = clicks + 1 WHERE clicks > 0 LIMIT 1');
      assert.equal((res as { affectedRows: number }).affectedRows, 1);
    } finally {
      await admin.end();
    }
    const r = await reconcile(stack.deps);
    assert.equal(r.status, 'fail');
    const warehouse = r.checks.find((c) => c.id === 'warehouse');
    assert.equal(warehouse?.status, 'fail');
    assert.equal(warehouse!.right - warehouse!.left, 1);
    assert.deepEqual(
      r.checks.filter((c) => c.status === 'fail').map((c) => c.id),
      ['warehouse'],
    );
  });
});
