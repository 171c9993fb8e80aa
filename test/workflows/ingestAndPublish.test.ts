import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PublishSummary } from '../../activities/types';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { ingestAndPublish } from '../../workflows';
import type { IngestAndPublishResult } from '../../workflows';
import { ingestSummary } from './fakes';
import { startTestEnv, withWorkers } from './support';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

void test('retries a flaky file, reports a bad file, ingests the rest, then publishes until nothing is left', { timeout: 60_000 }, async () => {
  const attempts = new Map<string, number>();
  const publishRounds: PublishSummary[] = [
    { published: 500, batches: 5, quarantined: 1, ingestBatches: ['batch-a.csv'], more: true, durationMs: 10 },
    { published: 300, batches: 3, quarantined: 0, ingestBatches: ['batch-a.csv', 'batch-c.csv'], more: true, durationMs: 10 },
    { published: 20, batches: 1, quarantined: 0, ingestBatches: ['batch-c.csv'], more: false, durationMs: 10 },
  ];
  let publishCalls = 0;
  const activities = {
    async discoverFiles() {
      return {
        newFiles: ['a.csv', 'bad.csv', 'c.csv', 'dup.csv'].map((path) => ({ path, contentHash: `hash-${path}`, sizeBytes: 1 })),
        alreadyIngested: [{ path: 'old.csv', contentHash: 'hash-old', sizeBytes: 1 }],
      };
    },
    async ingestFile({ path }: { path: string }) {
      const n = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, n);
      if (path === 'c.csv' && n <= 2) throw new Error(`cassandra timeout (attempt ${n})`);
      if (path === 'bad.csv') throw ApplicationFailure.nonRetryable('header row does not match the export format', 'BadFileError');
      return ingestSummary(path, path === 'dup.csv' ? 'duplicate-file' : 'ingested');
    },
    async publishPending(input: { maxEvents?: number }) {
      assert.equal(input.maxEvents, 500);
      const round = publishRounds[publishCalls++];
      assert.ok(round, 'publishPending called after it reported more=false');
      return round;
    },
  };

  const failure = await withWorkers(env, activities, () =>
    env.client.workflow
      .execute(ingestAndPublish, {
        taskQueue: TASK_QUEUES.pipeline,
        workflowId: 'ingest-test-mixed',
        args: [{ landingDir: '/landing', maxEventsPerPublish: 500 }],
      })
      .then(
        () => assert.fail('a run with a failed file must end failed'),
        (err: unknown) => err,
      ),
  );
  // The run fails only after the other files and the publish are done; its failure carries the whole result.
  assert.ok(failure instanceof WorkflowFailedError, String(failure));
  const cause = failure.cause;
  assert.ok(cause instanceof ApplicationFailure);
  assert.equal(cause.type, 'IngestFilesFailed');
  assert.match(cause.message, /^1 file\(s\) failed, 3 tracking file\(s\) ingested, 820 events published: bad\.csv: BadFileError: header row/);
  const result = cause.details?.[0] as IngestAndPublishResult;

  assert.deepEqual(
    result.files.map((f) => [f.path, f.status]),
    [
      ['a.csv', 'ingested'],
      ['bad.csv', 'failed'],
      ['c.csv', 'ingested'],
      ['dup.csv', 'duplicate-file'],
    ],
  );
  assert.equal(attempts.get('c.csv'), 3, 'flaky file succeeds on its third attempt');
  assert.equal(attempts.get('bad.csv'), 1, 'non-retryable failure is not retried');
  assert.match(result.files[1]?.error ?? '', /BadFileError: header row/);
  assert.equal(result.files[2]?.summary?.written, 10);
  assert.deepEqual(result.skipped, ['old.csv']);
  assert.equal(publishCalls, 3);
  assert.equal(result.publish.published, 820);
  assert.equal(result.publish.batches, 9);
  assert.equal(result.publish.quarantined, 1);
  assert.equal(result.publish.rounds, 3);
  assert.equal(result.publish.more, false);
  assert.deepEqual(result.publish.ingestBatches, ['batch-a.csv', 'batch-c.csv']);

  const memo = (await env.client.workflow.getHandle('ingest-test-mixed').describe()).memo;
  assert.deepEqual(memo?.files, ['a.csv', 'bad.csv', 'c.csv', 'dup.csv']);
});

void test('explicit paths without publishing never discover or publish', { timeout: 30_000 }, async () => {
  const seen: string[] = [];
  const result = await withWorkers(
    env,
    {
      async discoverFiles() {
        throw new Error('must not be called');
      },
      async ingestFile({ path }: { path: string }) {
        seen.push(path);
        return ingestSummary(path);
      },
      async publishPending() {
        throw new Error('must not be called');
      },
    },
    () =>
      env.client.workflow.execute(ingestAndPublish, {
        taskQueue: TASK_QUEUES.pipeline,
        workflowId: 'ingest-test-paths',
        args: [{ paths: ['x.csv', 'y.csv.gz'], publish: false }],
      }),
  );
  assert.deepEqual(seen, ['x.csv', 'y.csv.gz']);
  assert.deepEqual(result.files.map((f) => f.status), ['ingested', 'ingested']);
  assert.equal(result.publish.rounds, 0);
});

void test('job exports found in landing load before the tracking files; other files are skipped, not failed', { timeout: 30_000 }, async () => {
  const calls: string[] = [];
  const result = await withWorkers(
    env,
    {
      async discoverFiles() {
        return {
          newFiles: [{ path: '/l/tracking.csv', contentHash: 'h1', sizeBytes: 1 }],
          alreadyIngested: [],
          jobFiles: [{ path: '/l/job.csv', contentHash: 'h2', sizeBytes: 1 }],
          skipped: [{ path: '/l/notes.csv', reason: 'not a tracking or job export' }],
        };
      },
      async loadJobs({ path }: { path: string }) {
        calls.push(`jobs ${path}`);
        return { file: path, rowsRead: 3, upserted: 3, rejected: 0, warehouseRowsFixed: 0 };
      },
      async ingestFile({ path }: { path: string }) {
        calls.push(`ingest ${path}`);
        return ingestSummary(path);
      },
      async publishPending() {
        calls.push('publish');
        return { published: 10, batches: 1, quarantined: 0, ingestBatches: ['batch-/l/tracking.csv'], more: false, durationMs: 1 };
      },
    },
    () =>
      env.client.workflow.execute(ingestAndPublish, {
        taskQueue: TASK_QUEUES.pipeline,
        workflowId: 'ingest-test-jobs-first',
        args: [{ landingDir: '/l' }],
      }),
  );
  assert.deepEqual(calls, ['jobs /l/job.csv', 'ingest /l/tracking.csv', 'publish']);
  assert.deepEqual(result.jobs?.map((j) => [j.path, j.status, j.summary?.upserted]), [['/l/job.csv', 'loaded', 3]]);
  assert.deepEqual(result.ignored, [{ path: '/l/notes.csv', reason: 'not a tracking or job export' }]);
  assert.deepEqual(result.files.map((f) => f.status), ['ingested']);
});
