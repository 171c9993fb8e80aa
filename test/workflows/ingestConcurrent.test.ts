import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { ingestAndPublish, ingestProgressQuery } from '../../workflows';
import type { IngestAndPublishResult } from '../../workflows';
import { ingestSummary } from './fakes';
import { eventually, startTestEnv, withWorkers } from './support';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

void test('maxConcurrentFiles: that many files in flight at once, a failed one does not stop the rest, results in file order', { timeout: 60_000 }, async () => {
  const files = ['a.csv', 'b.csv', 'bad.csv', 'd.csv', 'e.csv'];
  let inFlight = 0;
  let maxInFlight = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const activities = {
    async ingestFile({ path }: { path: string }) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (path === 'a.csv') await gate; // a slow file: the others overtake it
        await new Promise((r) => setTimeout(r, 100));
        if (path === 'bad.csv') throw ApplicationFailure.nonRetryable('bad header', 'BadFileError');
        return ingestSummary(path);
      } finally {
        inFlight -= 1;
      }
    },
    async publishPending() {
      return { published: 0, batches: 0, quarantined: 0, ingestBatches: [], more: false, durationMs: 1 };
    },
  };
  const failure = await withWorkers(env, activities, async () => {
    const handle = await env.client.workflow.start(ingestAndPublish, {
      taskQueue: TASK_QUEUES.pipeline, workflowId: 'ingest-concurrent', args: [{ paths: files, maxConcurrentFiles: 3 }],
    });
    // a.csv is held; the two other lanes get through the other four files meanwhile.
    const p = await eventually(() => handle.query(ingestProgressQuery), (x) => x.done === 4);
    assert.deepEqual(p.inFlight, ['a.csv']);
    release();
    return handle.result().then(() => assert.fail('a failed file fails the run at the end'), (err: unknown) => err);
  });
  assert.equal(maxInFlight, 3);
  assert.ok(failure instanceof WorkflowFailedError);
  const result = (failure.cause as ApplicationFailure).details?.[0] as IngestAndPublishResult;
  assert.deepEqual(result.files.map((f) => [f.path, f.status]), [
    ['a.csv', 'ingested'], ['b.csv', 'ingested'], ['bad.csv', 'failed'], ['d.csv', 'ingested'], ['e.csv', 'ingested'],
  ]);
});

void test('maxConcurrentPublishes: P publish activities at once, each over its own share until it has no more', { timeout: 60_000 }, async () => {
  const calls: Array<{ index?: number; count?: number }> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const roundsLeft = new Map([[0, 2], [1, 1], [2, 3]]);
  const activities = {
    async ingestFile({ path }: { path: string }) {
      return ingestSummary(path);
    },
    async publishPending(input: { share?: { index: number; count: number } }) {
      calls.push({ ...input.share });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 150));
      inFlight -= 1;
      const i = input.share?.index ?? -1;
      const left = (roundsLeft.get(i) ?? 0) - 1;
      roundsLeft.set(i, left);
      return { published: 10, batches: 1, quarantined: 0, ingestBatches: [`b${i}`], more: left > 0, durationMs: 1 };
    },
  };
  const result = await withWorkers(env, activities, () =>
    env.client.workflow.execute(ingestAndPublish, {
      taskQueue: TASK_QUEUES.pipeline, workflowId: 'publish-concurrent', args: [{ paths: ['x.csv'], maxConcurrentPublishes: 3 }],
    }),
  );
  assert.equal(maxInFlight, 3);
  assert.deepEqual(calls.map((c) => `${c.index}/${c.count}`).sort(), ['0/3', '0/3', '1/3', '2/3', '2/3', '2/3']);
  assert.equal(result.publish.rounds, 6);
  assert.equal(result.publish.published, 60);
  assert.deepEqual([...result.publish.ingestBatches].sort(), ['b0', 'b1', 'b2']);
  assert.equal(result.publish.more, false);
});
