import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { dailyIngestSchedule } from '../../client/schedules';
import { readStreamTotals } from '../../lib/stream/commit';
import {
  assertExact, ingestAndPublishDirect, killWorker, loadJobs, openFaultStack, sleep, startIngest, startStream, tail, waitFor,
  withServiceDown, writeDataset, type FaultStack,
} from '../support/faults';
import { expectedFrom } from '../support/reference';
import { randomSuffix } from '../support/env';
import { drainSignal } from '../../workflows';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('workers');
});
afterEach(async () => {
  await s?.close();
});

async function lakeRows(): Promise<number> {
  const rs = await s.deps.cassandra.execute(`SELECT COUNT(*) AS n FROM ${s.config.cassandra.keyspace}.events_by_hour`);
  return Number(rs.first()?.['n'] ?? 0);
}

void test('2. kill -9 of the pipeline worker during ingest and again during publish: the workflow completes, exact', async () => {
  const { tracking, jobs } = await writeDataset(s, 40_000, 21);
  await loadJobs(s, jobs);
  const first = s.spawnWorker('pipeline');
  await first.ready;
  const run = await startIngest(s, { paths: [tracking] });
  await waitFor('lake rows past 10,000', 300_000, async () => (await lakeRows()) >= 10_000);
  await killWorker(first);
  // The retried ingest (after the 30 s heartbeat timeout) runs here; its publish is killed after 2 acknowledged pages.
  const second = s.spawnWorker('pipeline', {}, { stage: 'publish', afterPages: 2 });
  assert.equal((await second.exited).signal, 'SIGKILL', tail(second.logFile));
  s.spawnWorker('pipeline');
  const result = await run.result();
  assert.equal(result.files[0]!.status, 'ingested');
  assert.ok(result.files[0]!.summary!.resumedFromLine > 0, 'the ingest resumed from its checkpoint');
  s.spawnWorker('stream');
  assert.equal((await (await startStream(s)).result()).state, 'caught-up');
  const r = await assertExact(s, '2 pipeline worker kill -9 during ingest and publish', expectedFrom([tracking], jobs));
  assert.ok(r.totals.redelivered > 0, 'a page was re-sent and its copies dropped');
});

void test('11. the stream workflow cancelled, then drained, then restarted: no loss, no double count', async () => {
  const a = await writeDataset(s, 8000, 111);
  const b = await writeDataset(s, 8000, 112);
  const c = await writeDataset(s, 8000, 113);
  await loadJobs(s, a.jobs);
  await ingestAndPublishDirect(s, [a.tracking]);
  s.spawnWorker('pipeline');
  s.spawnWorker('stream');
  const { topic, consumerGroup: group } = s.config.kafka;

  const run1 = await startStream(s, { stopWhenCaughtUp: false, leaseMs: 20_000 });
  await waitFor('first batches', 120_000, async () => (await readStreamTotals(s.deps.mysql, group, topic)).batches > 0);
  // Publishing goes on while the stream is stopped.
  const publishing = ingestAndPublishDirect(s, [b.tracking]);
  await run1.cancel();
  await assert.rejects(run1.result());
  await publishing;

  const run2 = await startStream(s, { stopWhenCaughtUp: false, leaseMs: 20_000 });
  await sleep(3000);
  await ingestAndPublishDirect(s, [c.tracking]);
  await run2.signal(drainSignal);
  assert.equal((await run2.result()).state, 'drained');

  const run3 = await startStream(s);
  assert.equal((await run3.result()).state, 'caught-up');
  await assertExact(s, '11 stream cancelled, drained, restarted', expectedFrom([a.tracking, b.tracking, c.tracking], a.jobs));
});

void test('12. a schedule fired while its previous run is still going: SKIP holds, nothing duplicated', async () => {
  const landing = path.join(s.dir, 'landing');
  const { tracking, jobs } = await writeDataset(s, 60_000, 121, { dir: landing, name: 'export.csv' });
  fs.renameSync(jobs, path.join(s.dir, 'job.csv'));
  await loadJobs(s, path.join(s.dir, 'job.csv'));
  s.spawnWorker('pipeline');
  s.spawnWorker('stream');
  await Promise.all(s.workers.map((w) => w.ready));
  const client = await s.temporal();
  const opts = dailyIngestSchedule({
    scheduleId: `trackflow-fault-${randomSuffix()}`, landingDir: landing, taskQueue: s.queues.pipeline, cron: '0 2 1 1 *',
  });
  if (opts.action.type === 'startWorkflow') opts.action.workflowId = `ingest-fault-scheduled-${randomSuffix()}`;
  const schedule = await client.schedule.create(opts);
  try {
    assert.equal((await schedule.describe()).policies.overlap, ScheduleOverlapPolicy.SKIP);
    // A manual trigger defaults to ALLOW_ALL in the SDK; a firing of the schedule uses its own policy, as
    // `trackflow schedule trigger` does (its --overlap defaults to skip).
    await schedule.trigger(ScheduleOverlapPolicy.SKIP);
    await sleep(1500);
    await schedule.trigger(ScheduleOverlapPolicy.SKIP);
    await sleep(1500);
    await schedule.trigger(ScheduleOverlapPolicy.SKIP);
    const desc = await waitFor('the first run to be listed', 30_000, async () => {
      const d = await schedule.describe();
      return d.info.recentActions.length > 0 ? d : undefined;
    });
    assert.ok(desc.info.runningActions.length <= 1);
    const running = desc.info.recentActions[0]!.action.workflow;
    await client.workflow.getHandle(running.workflowId, running.firstExecutionRunId).result();
    const after = await schedule.describe();
    assert.equal(after.info.recentActions.length, 1, 'only one run was started');
    assert.ok(after.info.numActionsSkippedOverlap >= 2, `skipped: ${after.info.numActionsSkippedOverlap}`);
    // A later firing finds the file already ingested and adds nothing.
    await schedule.trigger(ScheduleOverlapPolicy.SKIP);
    const next = await waitFor('a second run', 30_000, async () => {
      const d = await schedule.describe();
      return d.info.recentActions.length > 1 ? d.info.recentActions[1]!.action.workflow : undefined;
    });
    const second = await client.workflow.getHandle(next.workflowId, next.firstExecutionRunId).result() as { files: unknown[]; skipped: string[] };
    assert.deepEqual([second.files.length, second.skipped.length], [0, 1]);
  } finally {
    await schedule.delete();
  }
  assert.equal((await (await startStream(s)).result()).state, 'caught-up');
  await assertExact(s, '12 schedule overlap SKIP', expectedFrom([tracking], path.join(s.dir, 'job.csv')));
});

/**
 * How each completed activity of `type` ended, from the workflow's history: the attempt it finished on, and
 * whether the attempt before that one had been timed out by the server (while it may still have been running).
 */
async function finalAttempts(workflowId: string, type: string): Promise<Array<{ attempt: number; afterTimeout: boolean }>> {
  const history = await (await s.temporal()).workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Set(events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type)
    .map((e) => String(e.eventId)));
  return events
    .filter((e) => scheduled.has(String(e.activityTaskStartedEventAttributes?.scheduledEventId)))
    .map((e) => ({
      attempt: e.activityTaskStartedEventAttributes!.attempt ?? 0,
      afterTimeout: Boolean(e.activityTaskStartedEventAttributes!.lastFailure?.timeoutFailureInfo),
    }));
}

void test('13. Kafka down for 50 s as the publish starts: no publish attempt is timed out and retried beside itself, and no copy is sent', async () => {
  const { tracking, jobs } = await writeDataset(s, 20_000, 131);
  await loadJobs(s, jobs);
  await s.spawnWorker('pipeline').ready;
  const run = await startIngest(s, { paths: [tracking] });
  await waitFor('lake rows past 2,000', 120_000, async () => (await lakeRows()) >= 2000);
  // The ingest finishes while the broker is down; the publish then waits in connect and send for longer than
  // the activity's 30 s heartbeat timeout.
  await withServiceDown('kafka', 50_000);
  assert.equal((await run.result()).files[0]!.status, 'ingested');
  // A retry after attempt 1 gave up (kafkajs's connect retries can run out before the broker is back) is
  // fine: only a retry after a timeout runs beside an attempt that may still be sending.
  const attempts = await finalAttempts(run.workflowId, 'publishPending');
  assert.equal(attempts.length, 1, JSON.stringify(attempts));
  assert.equal(attempts[0]!.afterTimeout, false, `the publish activity was retried after a timeout, beside itself: ${JSON.stringify(attempts)}`);
  s.spawnWorker('stream');
  assert.equal((await (await startStream(s)).result()).state, 'caught-up');
  const r = await assertExact(s, '13 Kafka down as the publish starts', expectedFrom([tracking], jobs));
  assert.equal(r.totals.redelivered, 0, 'no page was published twice');
});
