import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
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

/** The `temporal schedule create` block of the daily verify in the README. */
function readmeVerifyScheduleCommand(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- verify-schedule-create:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- verify-schedule-create:end -->/.exec(readme);
  assert.ok(block?.[1], 'README has the verify-schedule-create block');
  return block[1];
}

test('the README verify schedule verifies yesterday; a difference fails the run and pauses the schedule', { timeout: 180_000 }, async () => {
  const cfg = stack.config;
  const id = randomSuffix();
  const scheduleId = `trackflow-test-verify-${id}`;
  const taskQueue = `trackflow-verify-schedule-${id}`;
  const env = {
    ...process.env,
    XDG_CACHE_HOME: path.dirname(path.dirname(path.dirname(temporalBinaryPath()))),
    TEMPORAL_ADDRESS: cfg.temporal.address,
    TRACKFLOW_VERIFY_SCHEDULE_ID: scheduleId,
    TRACKFLOW_TASK_QUEUE_PIPELINE: taskQueue,
  };
  const created = spawnSync('bash', ['-euo', 'pipefail', '-c', readmeVerifyScheduleCommand()], { cwd: tmp, env, encoding: 'utf8' });
  assert.equal(created.status, 0, created.stderr);

  const connection = await Connection.connect({ address: cfg.temporal.address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: cfg.temporal.address });
  const schedule = client.schedule.getHandle(scheduleId);
  const trigger = async (previous: number): Promise<string> => {
    const t = spawnSync(temporalBinaryPath(), ['schedule', 'trigger', '--address', cfg.temporal.address, '-s', scheduleId], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const recent = (await schedule.describe()).info.recentActions;
      if (recent.length > previous) return recent[recent.length - 1]!.action.workflow.workflowId;
      assert.ok(Date.now() < deadline, 'the trigger started a workflow');
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  try {
    const description = await schedule.describe();
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.action.type === 'startWorkflow' && description.action.workflowType, 'verifyWarehouse');
    assert.equal(description.policies.overlap, 'SKIP');

    const { consumeLease: _stream, ...activities } = createActivities(stack.deps);
    const worker = await Worker.create({ connection: workerConnection, namespace: cfg.temporal.namespace, taskQueue, workflowsPath: require.resolve('../../workflows'), activities });
    await worker.runUntil(async () => {
      const first = await trigger(0);
      assert.match(first, /^verify-scheduled/);
      const ok = (await client.workflow.getHandle(first).result()) as { hours: number; verified: number; from: string };
      const yesterday = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString().slice(0, 10);
      assert.deepEqual([ok.hours, ok.verified, ok.from], [24, 24, `${yesterday}T00`]);

      // A row the lake has no events for, in yesterday's 05:00 hour.
      await stack.deps.mysql.query(
        "INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, bid_set, clicks, spend_hour, conversion, qualified_application, disqualified_application, company_id, sources, bid_sum, updated_at) VALUES (7, ?, 5, 0, 0, 0, NULL, 0, 0, 1, 0, 0, NULL, 'Cassandra', 0, UTC_TIMESTAMP(3))",
        [yesterday],
      );
      const second = await trigger(1);
      await assert.rejects(client.workflow.getHandle(second).result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(err.cause?.message ?? '', /1 warehouse rows differ from the lake in 1 hours/);
        return true;
      });
      const deadline = Date.now() + 30_000;
      while (!(await schedule.describe()).state.paused) {
        assert.ok(Date.now() < deadline, 'the failure paused the schedule');
        await new Promise((r) => setTimeout(r, 500));
      }
    });
  } finally {
    await schedule.delete().catch(() => undefined);
    await workerConnection.close();
    await connection.close();
  }
});

test('trackflow schedule create --verify creates the verify schedule with its defaults', { timeout: 60_000 }, async () => {
  const cfg = stack.config;
  const scheduleId = `trackflow-test-verify-cli-${randomSuffix()}`;
  const created = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'scripts', 'cli.ts'), 'schedule', 'create', '--verify', '--id', scheduleId, '--paused'], {
    cwd: REPO_ROOT, env: { ...process.env, TRACKFLOW_TEMPORAL_ADDRESS: cfg.temporal.address }, encoding: 'utf8',
  });
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stdout, /verifyWarehouse of yesterday's hours at "0 4 \* \* \*" UTC/);
  const connection = await Connection.connect({ address: cfg.temporal.address });
  const schedule = new Client({ connection, namespace: cfg.temporal.namespace }).schedule.getHandle(scheduleId);
  try {
    const d = await schedule.describe();
    assert.equal(d.action.type === 'startWorkflow' && d.action.workflowType, 'verifyWarehouse');
    assert.deepEqual(d.action.type === 'startWorkflow' && d.action.args, [{ previousDay: true, failOnDifference: true }]);
    assert.equal(d.policies.pauseOnFailure, true);
    assert.equal(d.state.paused, true);
  } finally {
    await schedule.delete().catch(() => undefined);
    await connection.close();
  }
});
