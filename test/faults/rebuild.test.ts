import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { generateJobs, generateTracking } from '../../lib/domain/generator';
import type { RebuildWarehouseResult, VerifyWarehouseResult } from '../../workflows';
import { randomSuffix } from '../support/env';
import {
  assertExact, consumeUntilCaughtUp, ingestAndPublishDirect, loadJobs, openFaultStack, tail, type FaultStack,
} from '../support/faults';
import { expectedFrom } from '../support/reference';

let s: FaultStack;
beforeEach(async () => {
  s = await openFaultStack('rebuild');
});
afterEach(async () => {
  await s?.close();
});

void test('13. kill -9 of the pipeline worker in the middle of a rebuild of 48 hours: the workflow resumes, the warehouse is exact', async () => {
  const tracking = path.join(s.dir, 'tracking.csv');
  const gen = generateTracking({ events: 40_000, seed: 131, days: 2, startMs: Date.UTC(2022, 6, 1), badRate: 0.005 });
  fs.writeFileSync(tracking, [...gen.lines].map((l) => l.toString()).join('\n') + '\n');
  const jobs = path.join(s.dir, 'job.csv');
  fs.writeFileSync(jobs, [...generateJobs(131)].join('\n') + '\n');
  await loadJobs(s, jobs);
  await ingestAndPublishDirect(s, [tracking]);
  await consumeUntilCaughtUp(s);
  // Damage every hour: rows lost, rows wrong.
  await s.deps.mysql.query('DELETE FROM events WHERE MOD(job_id, 3) = 0');
  await s.deps.mysql.query('UPDATE events SET clicks = clicks + 1, spend_hour = spend_hour + 1 WHERE MOD(job_id, 3) = 1');

  // The worker SIGKILLs itself once its first attempt has rebuilt the 4th hour of the third chunk (hour 28 of 48),
  // after heartbeating it: a real kill -9 at a known point in the middle of the run.
  const first = s.spawnWorker('pipeline', {}, { stage: 'rebuild', hour: '2022-07-02T03' });
  await first.ready;
  const client = await s.temporal();
  const run = await client.workflow.start('rebuildWarehouse', {
    taskQueue: s.queues.pipeline,
    workflowId: `rebuild-fault-${randomSuffix()}`,
    args: [{ all: true, chunkHours: 12 }],
  });
  assert.equal((await first.exited).signal, 'SIGKILL', tail(first.logFile));
  const second = s.spawnWorker('pipeline');
  const result = (await run.result()) as RebuildWarehouseResult;
  assert.equal(result.hours, 48, tail(second.logFile));
  assert.equal(result.doneHours, 48);
  // The worker's heartbeats are throttled: the retry resumes after the last one the server got (at least the first
  // hour of the chunk), and redoes the hours after it, which the dead attempt had already made exact.
  // Two hours run at once, so the dead attempt finished four or five hours of the chunk.
  assert.ok(result.resumedHours >= 1 && result.resumedHours <= 5, `resumed after ${result.resumedHours} hours`);
  const redone = 48 - result.changedHours;
  assert.ok(redone >= 4 - result.resumedHours && redone <= 5 - result.resumedHours, `every damaged hour replaced once; ${redone} redone hours were already exact`);

  await assertExact(s, '13 pipeline worker kill -9 mid-rebuild', expectedFrom([tracking], jobs));
  const verified = (await client.workflow.execute('verifyWarehouse', {
    taskQueue: s.queues.pipeline, workflowId: `verify-fault-${randomSuffix()}`, args: [{ all: true }],
  })) as VerifyWarehouseResult;
  assert.deepEqual([verified.hours, verified.verified, verified.differs], [48, 48, 0]);
});
