import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { REPO_ROOT } from '../../lib/config';
import { temporalBinaryPath } from '../../lib/stack/paths';
import type { IngestAndPublishResult } from '../../workflows';
import { openTestStack, randomSuffix } from '../support/env';
import type { TestStack } from '../support/env';

/** The `temporal schedule create` block of the README, character for character. */
function readmeScheduleCommand(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- schedule-create:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- schedule-create:end -->/.exec(readme);
  assert.ok(block?.[1], 'README has the schedule-create block');
  return block[1];
}

let stack: TestStack;
let tmp: string;
before(async () => {
  stack = await openTestStack('schedule');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-schedule-'));
  fs.mkdirSync(path.join(tmp, 'landing'));
  fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'tracking_sample.csv'), path.join(tmp, 'landing', 'tracking.csv'));
});
after(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the README temporal schedule command creates a schedule whose triggered run ingests and publishes', async () => {
  const cfg = stack.config;
  const id = randomSuffix();
  const scheduleId = `trackflow-test-schedule-${id}`;
  const taskQueue = `trackflow-schedule-pipeline-${id}`;
  const env = {
    ...process.env,
    // The README's PATH line finds the binary in the cache that the stack filled.
    XDG_CACHE_HOME: path.dirname(path.dirname(path.dirname(temporalBinaryPath()))),
    TEMPORAL_ADDRESS: cfg.temporal.address,
    TRACKFLOW_SCHEDULE_ID: scheduleId,
    TRACKFLOW_TASK_QUEUE_PIPELINE: taskQueue,
  };
  const created = spawnSync('bash', ['-euo', 'pipefail', '-c', readmeScheduleCommand()], { cwd: tmp, env, encoding: 'utf8' });
  assert.equal(created.status, 0, created.stderr);

  const connection = await Connection.connect({ address: cfg.temporal.address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: cfg.temporal.address });
  const schedule = client.schedule.getHandle(scheduleId);
  try {
    const description = await schedule.describe();
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.policies.overlap, 'SKIP');

    const { consumeLease: _stream, ...activities } = createActivities(stack.deps);
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: cfg.temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('../../workflows'),
      activities,
    });
    const result = await worker.runUntil(async () => {
      const trigger = spawnSync(temporalBinaryPath(), ['schedule', 'trigger', '--address', cfg.temporal.address, '-s', scheduleId], {
        encoding: 'utf8',
      });
      assert.equal(trigger.status, 0, trigger.stderr);
      const deadline = Date.now() + 60_000;
      let workflowId: string | undefined;
      while (!workflowId && Date.now() < deadline) {
        const recent = (await schedule.describe()).info.recentActions;
        workflowId = recent[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(workflowId, 'the trigger started a workflow');
      assert.match(workflowId, /^ingest-scheduled/);
      return (await client.workflow.getHandle(workflowId).result()) as IngestAndPublishResult;
    });
    assert.deepEqual(
      result.files.map((f) => [path.basename(f.path), f.status, f.summary?.written]),
      [['tracking.csv', 'ingested', 57]],
    );
    assert.equal(result.publish.published, 57);
  } finally {
    await schedule.delete().catch(() => undefined);
    await workerConnection.close();
    await connection.close();
  }
});
