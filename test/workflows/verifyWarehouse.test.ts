import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ActivityDeps } from '../../activities/deps';
import type { ChunkResult, HourVerdict, RebuildChunkInput, RebuildHourResult, VerifyOutcome } from '../../activities/verify';
import { runChunk } from '../../activities/verify';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { rebuildProgressQuery, rebuildWarehouse, verifyProgressQuery, verifyWarehouse } from '../../workflows';
import { startTestEnv, withWorkers } from './support';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

function verdict(hour: string, status: HourVerdict['status'] = 'verified'): HourVerdict {
  return {
    hour, status, lakeEvents: 10, countable: 4, filtered: 5, unattributed: 1, deadLettered: 0, publishQuarantined: 0,
    inFlight: { notPublished: status === 'not-settled' ? 3 : 0, notConsumed: 0, companyPending: 0 },
    lakeRows: 2, warehouseRows: 2, differenceCount: status === 'differs' ? 1 : 0,
    differences: status === 'differs' ? [{ kind: 'differs', key: `98|${hour.slice(0, 10)}|${Number(hour.slice(11))}|1|4|0`, columns: [{ column: 'clicks', warehouse: 113, lake: 108 }] }] : [],
  };
}

function fakeVerify(statusOf: (hour: string) => HourVerdict['status'] = () => 'verified') {
  const chunks: string[][] = [];
  const outcomes: VerifyOutcome[] = [];
  return {
    chunks,
    outcomes,
    activities: {
      async verifyHours(input: { hours: string[] }): Promise<ChunkResult<HourVerdict>> {
        chunks.push(input.hours);
        return { results: input.hours.map((h) => verdict(h, statusOf(h))), resumedFrom: 0 };
      },
      async listLakeHours(): Promise<string[]> {
        return ['2022-07-08T09', '2022-07-08T10', '2022-07-09T00'];
      },
      async recordVerifyOutcome(input: VerifyOutcome): Promise<void> {
        outcomes.push(input);
      },
    },
  };
}

const id = (name: string) => `${name}-${Math.random().toString(16).slice(2, 8)}`;

void test('verifyWarehouse runs one activity per chunk of hours and totals the verdicts', { timeout: 60_000 }, async () => {
  const fake = fakeVerify((h) => (h === '2022-07-08T11' ? 'differs' : h === '2022-07-09T04' ? 'not-settled' : 'verified'));
  await withWorkers(env, fake.activities, async () => {
    const handle = await env.client.workflow.start(verifyWarehouse, {
      taskQueue: TASK_QUEUES.pipeline, workflowId: id('verify-chunks'),
      args: [{ from: '2022-07-08T09:30Z', to: '2022-07-09T14', chunkHours: 7 }],
    });
    const r = await handle.result();
    assert.deepEqual(fake.chunks.map((c) => [c[0], c.length]), [['2022-07-08T09', 7], ['2022-07-08T16', 7], ['2022-07-08T23', 7], ['2022-07-09T06', 7], ['2022-07-09T13', 2]]);
    assert.deepEqual([r.hours, r.verified, r.differs, r.notSettled, r.differences, r.inFlightEvents], [30, 28, 1, 1, 1, 3]);
    assert.equal(r.lastVerifiedHour, '2022-07-09T14');
    assert.deepEqual(r.unverified.map((v) => [v.hour, v.status]), [['2022-07-08T11', 'differs'], ['2022-07-09T04', 'not-settled']]);
    const p = await handle.query(verifyProgressQuery);
    assert.deepEqual([p.phase, p.doneHours, p.differingHours], ['done', 30, ['2022-07-08T11']]);
    assert.deepEqual(fake.outcomes, [{ differences: 1, differingHours: 1, lastVerifiedHour: '2022-07-09T14' }]);
    const memo = (await handle.describe()).memo as Record<string, unknown>;
    assert.match(String(memo['progress']), /verified 28, differs 1 \(1 rows\), not settled 1 of 30 hours/);
  });
});

void test('with failOnDifference a difference fails the run (WarehouseDiffers), after recording the metric', { timeout: 60_000 }, async () => {
  const fake = fakeVerify((h) => (h.endsWith('T10') ? 'differs' : 'verified'));
  await withWorkers(env, fake.activities, async () => {
    const handle = await env.client.workflow.start(verifyWarehouse, {
      taskQueue: TASK_QUEUES.pipeline, workflowId: id('verify-fail'), args: [{ previousDay: true, failOnDifference: true }],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'WarehouseDiffers');
      assert.match(err.cause.message, /1 warehouse rows differ from the lake in 1 hours/);
      return true;
    });
    // The previous UTC day of the run's start (the run started just now).
    const day = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000).toISOString().slice(0, 10);
    assert.deepEqual(fake.chunks.flat(), Array.from({ length: 24 }, (_, h) => `${day}T${String(h).padStart(2, '0')}`));
    assert.equal(fake.outcomes[0]?.differences, 1);
  });
});

void test('--all lists the lake hours; a half range or a bad hour fails at once as InvalidHourRange', { timeout: 60_000 }, async () => {
  const fake = fakeVerify();
  await withWorkers(env, fake.activities, async () => {
    const all = await env.client.workflow.execute(verifyWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId: id('verify-all'), args: [{ all: true }] });
    assert.deepEqual([all.hours, all.from, all.to], [3, '2022-07-08T09', '2022-07-09T00']);
    for (const args of [{ from: '2022-07-08T09' }, { from: 'yesterday', to: '2022-07-08T09' }, { all: true, from: '2022-07-08T09', to: '2022-07-08T10' }]) {
      await assert.rejects(
        env.client.workflow.execute(verifyWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId: id('verify-bad'), args: [args] }),
        (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure && err.cause.type === 'InvalidHourRange',
      );
    }
    await assert.rejects(
      env.client.workflow.execute(rebuildWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId: id('rebuild-norange'), args: [{}] }),
      (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure && /give --from and --to, or --all/.test(err.cause.message),
    );
  });
});

function rebuilt(hour: string, dryRun: boolean, changed: boolean): RebuildHourResult {
  return {
    hour, dryRun, changed, written: changed && !dryRun, lakeEvents: 10, counted: 4, ledgerAdded: 0, inFlight: 1,
    rowsBefore: 2, rowsAfter: 3, differenceCount: changed ? 1 : 0, differences: [], retries: 0,
  };
}

/** A chunk activity built on the real runChunk: its first attempt dies after two hours; the retry resumes. */
function resumableRebuild() {
  const calls: Array<{ attempt: number; hour: string }> = [];
  const deps = { config: { cassandra: { keyspace: 'ks' }, kafka: { topic: 't', consumerGroup: 'g' } }, kafka: {} } as unknown as ActivityDeps;
  return {
    calls,
    async rebuildHours(input: RebuildChunkInput): Promise<ChunkResult<RebuildHourResult>> {
      const attempt = Context.current().info.attempt;
      return runChunk(deps, input.hours, async (_d, _lag, hour) => {
        calls.push({ attempt, hour });
        return rebuilt(hour, input.dryRun === true, hour.endsWith('T01'));
      }, {
        afterHour: (n) => {
          if (attempt === 1 && input.hours[0] === '2022-07-08T04' && n === 2) throw new Error('worker died');
        },
      });
    },
  };
}

void test('rebuildWarehouse: a chunk retried after a failure resumes after the hours it heartbeated; dry-run is passed down', { timeout: 60_000 }, async () => {
  const fake = resumableRebuild();
  await withWorkers(env, { rebuildHours: fake.rebuildHours }, async () => {
    const handle = await env.client.workflow.start(rebuildWarehouse, {
      taskQueue: TASK_QUEUES.pipeline, workflowId: id('rebuild-resume'),
      args: [{ from: '2022-07-08T00', to: '2022-07-08T07', chunkHours: 4, dryRun: true }],
    });
    const r = await handle.result();
    assert.deepEqual(fake.calls.filter((c) => c.hour >= '2022-07-08T04').map((c) => `${c.attempt}:${c.hour.slice(11)}`), ['1:04', '1:05', '2:06', '2:07']);
    assert.deepEqual([r.hours, r.doneHours, r.changedHours, r.resumedHours, r.dryRun], [8, 8, 1, 2, true]);
    assert.deepEqual(r.changed.map((c) => c.hour), ['2022-07-08T01']);
    const p = await handle.query(rebuildProgressQuery);
    assert.equal(p.phase, 'done');
  });
});
