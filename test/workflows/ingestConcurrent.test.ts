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
