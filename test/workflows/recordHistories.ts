/**
 * Records one history per workflow shape into test/histories/, for the replay tests.
 * Workflows run on a throwaway dev server with scripted activities, so the histories cover every
 * branch the replay test must keep deterministic: retries, a failed file, the publish loop,
 * signals, a drained lease, continue-as-new.
 * Re-record (npm run histories:record) only when a workflow change is meant to be incompatible,
 * and then version the change (patched()) instead if old runs may still be open.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { PublishSummary } from '../../activities/types';
import { temporalBinaryPath } from '../../lib/stack/paths';
import { TASK_QUEUES } from '../../lib/taskQueues';
import { drainSignal, ingestAndPublish, loadJobs, pauseSignal, resumeSignal, statusQuery, streamToWarehouse } from '../../workflows';
import { fakeConsumeLease, ingestSummary } from './fakes';
import { eventually, startTestEnv, withWorkers } from './support';

const OUT = path.resolve(__dirname, '..', 'histories');

/**
 * Written with `temporal workflow show --output json`: the standard history JSON every SDK's replayer
 * reads (the SDK's historyToJSON is not usable with this package layout).
 */
function save(env: { address: string }, name: string, workflowId: string, runId?: string): void {
  const args = ['workflow', 'show', '--address', env.address, '--workflow-id', workflowId, '--output', 'json'];
  if (runId) args.push('--run-id', runId);
  const json = execFileSync(temporalBinaryPath(), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const history = JSON.parse(json) as { events?: unknown[] };
  const file = path.join(OUT, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(history, null, 1) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)} (${history.events?.length ?? 0} events)\n`);
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const env = await startTestEnv();
  try {
    let flaky = 0;
    const rounds: PublishSummary[] = [
      { published: 1000, batches: 2, quarantined: 1, ingestBatches: ['batch-a.csv'], more: true, durationMs: 40 },
      { published: 250, batches: 1, quarantined: 0, ingestBatches: ['batch-c.csv.gz'], more: false, durationMs: 12 },
    ];
    let round = 0;
    const stream = fakeConsumeLease({ perLease: 25 });
    const canStream = fakeConsumeLease({ perLease: 5, caughtUpAfter: 5 });
    let streamCalls = 0;
    const activities = {
      async discoverFiles() {
        return {
          newFiles: ['/landing/a.csv', '/landing/bad.csv', '/landing/c.csv.gz'].map((p) => ({ path: p, contentHash: `h-${p}`, sizeBytes: 100 })),
          alreadyIngested: [{ path: '/landing/old.csv', contentHash: 'h-old', sizeBytes: 100 }],
        };
      },
      async ingestFile({ path: p }: { path: string }) {
        if (p.endsWith('bad.csv')) throw ApplicationFailure.nonRetryable('header row does not match the export format', 'BadFileError');
        if (p.endsWith('c.csv.gz') && flaky++ === 0) throw new Error('cassandra write timeout');
        return ingestSummary(p);
      },
      async publishPending() {
        return rounds[round++ % rounds.length] as PublishSummary;
      },
      async loadJobs({ path: p }: { path: string }) {
        return { file: p, rowsRead: 40, upserted: 39, rejected: 1, warehouseRowsFixed: 3 };
      },
      async consumeLease(input: Parameters<typeof stream.consumeLease>[0]) {
        return (streamCalls++ < 1000 && input.stopWhenCaughtUp ? canStream : stream).consumeLease(input);
      },
    };

    await withWorkers(env, activities, async () => {
      const wf = env.client.workflow;
      const ingest = await wf.start(ingestAndPublish, {
        taskQueue: TASK_QUEUES.pipeline,
        workflowId: 'ingest-history',
        args: [{ landingDir: '/landing', maxEventsPerPublish: 1000 }],
        memo: { trigger: 'record-histories' },
      });
      await ingest.result();
      save(env, 'ingestAndPublish', ingest.workflowId);

      const jobs = await wf.start(loadJobs, { taskQueue: TASK_QUEUES.pipeline, workflowId: 'jobs-jobs.csv', args: [{ path: '/landing/jobs.csv' }] });
      await jobs.result();
      save(env, 'loadJobs', jobs.workflowId);

      const s = await wf.start(streamToWarehouse, { taskQueue: TASK_QUEUES.pipeline, workflowId: 'stream-history', args: [{ leaseMs: 200 }] });
      await eventually(() => s.query(statusQuery), (st) => st.leases >= 2);
      await s.signal(pauseSignal);
      await new Promise((r) => setTimeout(r, 500));
      await s.signal(resumeSignal);
      await eventually(() => s.query(statusQuery), (st) => st.leases >= 4);
      await s.signal(drainSignal);
      await s.result();
      save(env, 'streamToWarehouse', s.workflowId);

      const c = await wf.start(streamToWarehouse, {
        taskQueue: TASK_QUEUES.pipeline,
        workflowId: 'stream-history-can',
        args: [{ leaseMs: 50, maxLeasesPerRun: 2, stopWhenCaughtUp: true }],
      });
      await c.result();
      save(env, 'streamToWarehouse-continueAsNew', c.workflowId, c.firstExecutionRunId);
      save(env, 'streamToWarehouse-continueAsNew-final', c.workflowId);
    });
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
