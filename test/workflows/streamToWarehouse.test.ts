import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { drainSignal, pauseSignal, resumeSignal, statusQuery, streamToWarehouse } from '../../workflows';
import { fakeConsumeLease } from './fakes';
import { eventually, startTestEnv, withWorkers } from './support';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

const started: string[] = [];
afterEach(async () => {
  // A failed assertion must not leave a stream running into the next test.
  for (const id of started.splice(0)) {
    await env.client.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined);
  }
});

function startStream(workflowId: string, input: Parameters<typeof streamToWarehouse>[0]) {
  started.push(workflowId);
  return env.client.workflow.start(streamToWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId, args: [input] });
}


void test('pause holds new leases, resume restarts them, drain ends the in-flight lease cleanly', { timeout: 60_000 }, async () => {
  const fake = fakeConsumeLease();
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    const handle = await startStream('stream-test-signals', { leaseMs: 200 });
    const running = await eventually(() => handle.query(statusQuery), (s) => s.leases >= 2);
    assert.equal(running.state, 'running');
    assert.equal(running.lag, 7);
    assert.deepEqual(running.lastLease?.partitions.map((p) => p.partition), [0, 1]);

    await handle.signal(pauseSignal);
    assert.equal((await handle.query(statusQuery)).state, 'paused');
    // The in-flight lease runs out its lease; after that nothing new starts.
    await new Promise((r) => setTimeout(r, 600));
    const paused = await handle.query(statusQuery);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await handle.query(statusQuery)).leases, paused.leases, 'no lease while paused');
    assert.equal(fake.calls.length, paused.leases);

    await handle.signal(resumeSignal);
    await eventually(() => handle.query(statusQuery), (s) => s.state === 'running' && s.leases >= paused.leases + 2);

    // A long lease in flight: drain must cancel it, and the workflow must keep what it committed.
    await handle.signal(drainSignal);
    const result = await handle.result();
    assert.equal(result.state, 'drained');
    assert.equal(result.leases, fake.calls.length);
    assert.equal(result.totals.consumed, fake.calls.length * 10);
    assert.equal(result.totals.batches, fake.calls.length);
  });
});

void test('drain cancels a long lease promptly and counts its committed batch', { timeout: 60_000 }, async () => {
  const fake = fakeConsumeLease({ perLease: 7 });
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    const handle = await startStream('stream-test-drain', { leaseMs: 120_000 });
    // Wait until the lease is actually running (its first heartbeat reached the server).
    await eventually(
      () => handle.describe(),
      (d) => (d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.length ?? 0) > 0,
    );
    const started = Date.now();
    await handle.signal(drainSignal);
    assert.equal((await handle.query(statusQuery)).state, 'draining');
    const result = await handle.result();
    assert.ok(Date.now() - started < 10_000, 'drain did not wait for the 2-minute lease');
    assert.equal(result.state, 'drained');
    assert.equal(result.leases, 1);
    assert.equal(result.totals.consumed, 7);
    assert.equal(result.lastLease?.endReason, 'cancelled');
    assert.deepEqual(fake.calls.map((c) => c.endReason), ['cancelled']);
  });
});

void test('continue-as-new every N leases carries the totals', { timeout: 60_000 }, async () => {
  const fake = fakeConsumeLease({ caughtUpAfter: 5 });
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    const handle = await startStream('stream-test-can', { leaseMs: 50, maxLeasesPerRun: 2, stopWhenCaughtUp: true });
    const result = await handle.result();
    assert.equal(result.state, 'caught-up');
    assert.equal(result.leases, 5);
    assert.equal(result.totals.consumed, 50);
    assert.equal(result.totals.counted, 45);
    const final = await handle.describe();
    assert.notEqual(final.runId, handle.firstExecutionRunId, 'ran in more than one run');
    const status = await handle.query(statusQuery);
    assert.equal(status.runs, 3, 'runs of 2 + 2 + 1 leases');
    assert.equal(status.leasesThisRun, 1);
    assert.equal(status.since, result.since);
  });
});

void test('a failed lease is recorded as lastError and the stream carries on', { timeout: 60_000 }, async () => {
  const fake = fakeConsumeLease({ failOn: [2], caughtUpAfter: 4 });
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    const handle = await startStream('stream-test-error', { leaseMs: 50, stopWhenCaughtUp: true, failureBackoffMs: 200 });
    const result = await handle.result();
    assert.equal(result.state, 'caught-up');
    assert.equal(result.leases, 3, 'leases 1, 3 and 4 completed');
    assert.match(result.lastError?.message ?? '', /topic authorization failed/);
  });
});

void test('stop (cancel) ends the workflow as cancelled', { timeout: 60_000 }, async () => {
  const fake = fakeConsumeLease();
  await withWorkers(env, { consumeLease: fake.consumeLease }, async () => {
    const handle = await startStream('stream-test-cancel', { leaseMs: 60_000 });
    await eventually(() => handle.describe(), (d) => (d.raw.pendingActivities?.length ?? 0) > 0);
    await handle.cancel();
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError);
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.deepEqual(fake.calls.map((c) => c.endReason), ['cancelled']);
  });
});
