import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { REPO_ROOT } from '../../lib/config';
import { temporalBinaryPath } from '../../lib/stack/paths';
import type { Config } from '../../lib/config';
import type { IngestAndPublishResult, StreamResult } from '../../workflows';
import { isolatedEnv, openTestStack, randomSuffix } from '../support/env';
import type { TestStack } from '../support/env';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/**
 * The expected warehouse for test/fixtures/tracking_sample.csv + job_sample.csv, computed outside trackflow
 * (a few lines of Python over the CSVs, the UUID time from Python's uuid module) and checked by hand on
 * rows such as line 9 of the sample: job 187, click, bid 1.0, campaign 48, group 34, publisher 1, created
 * 2022-07-27 04:04:03 UTC, and job 187 belongs to company 33 in the job export.
 */
const EXPECTED_EXPORT = [
  'job_id,dates,hours,publisher_id,campaign_id,group_id,bid_set,clicks,spend_hour,conversion,qualified_application,disqualified_application,company_id,sources',
  '98,2022-07-08,9,1,4,0,2.00,1,2.00,0,0,0,1,Cassandra',
  '119,2023-01-14,21,15,9,10,,0,0.00,0,0,1,1,Cassandra',
  '125,2023-01-14,21,29,1,32,,0,0.00,1,0,0,1,Cassandra',
  '187,2022-07-27,4,1,48,34,1.00,1,1.00,0,0,0,33,Cassandra',
  '188,2022-07-24,14,1,48,34,1.00,1,1.00,0,0,0,33,Cassandra',
  '188,2022-07-25,9,1,48,34,1.00,1,1.00,0,0,0,33,Cassandra',
  '206,2023-01-14,21,35,61,41,0.00,1,0.00,0,0,0,1,Cassandra',
  '263,2023-01-14,21,3,59,26,,0,0.00,0,1,0,33,Cassandra',
  '379,2023-01-14,21,3,12,22,,0,0.00,0,1,0,33,Cassandra',
  '458,2023-01-14,21,17,48,25,,0,0.00,1,0,0,1,Cassandra',
  '538,2023-01-14,21,36,5,31,,0,0.00,0,0,1,33,Cassandra',
  '1218,2023-01-14,21,12,33,22,,0,0.00,0,1,0,1,Cassandra',
  '1280,2023-01-14,21,9,9,37,,0,0.00,0,0,1,40,Cassandra',
  '1497,2023-01-14,21,20,55,10,0.00,1,0.00,0,0,0,1,Cassandra',
  '1527,2022-07-26,6,1,222,0,0.00,2,0.00,0,0,0,1,Cassandra',
  '1529,2022-07-26,2,1,222,0,0.00,1,0.00,0,0,0,1,Cassandra',
  '1529,2022-07-27,4,1,222,0,0.00,1,0.00,0,0,0,1,Cassandra',
  '1533,2022-07-25,9,1,222,0,0.00,1,0.00,0,0,0,1,Cassandra',
  '1723,2023-01-14,21,13,79,32,,0,0.00,1,0,0,3,Cassandra',
  '1822,2023-01-14,21,22,55,27,,0,0.00,1,0,0,1,Cassandra',
  '1981,2023-01-14,21,30,13,15,,0,0.00,0,1,0,1,Cassandra',
  '1997,2023-01-14,21,15,61,27,,0,0.00,0,0,1,1,Cassandra',
].join('\n');

let stack: TestStack;
before(async () => {
  stack = await openTestStack('golden');
});
after(async () => {
  await stack?.close();
});

function trackflow(cfg: Config, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'trackflow'), ...args], {
    env: isolatedEnv(cfg),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/**
 * `npm run histories:record` sets TRACKFLOW_RECORD_HISTORIES: this run's workflows, with the real activities
 * against the real stack, become replay fixtures (test/histories/real-*.json) beside the scripted ones.
 */
function recordHistory(cfg: Config, name: string, workflowId: string): void {
  if (process.env['TRACKFLOW_RECORD_HISTORIES'] !== '1') return;
  const json = execFileSync(
    temporalBinaryPath(),
    ['workflow', 'show', '--address', cfg.temporal.address, '--workflow-id', workflowId, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  fs.writeFileSync(path.join(__dirname, '..', 'histories', `real-${name}.json`), JSON.stringify(JSON.parse(json), null, 1) + '\n');
}

test('golden: the sample through the Temporal workflows gives exactly the hand-checked warehouse', async () => {
  const cfg = stack.config;
  const id = randomSuffix();
  const queues = { pipeline: `trackflow-golden-pipeline-${id}`, stream: `trackflow-golden-stream-${id}` };
  const { consumeLease, ...pipelineActivities } = createActivities(stack.deps);

  const workerConnection = await NativeConnection.connect({ address: cfg.temporal.address });
  const connection = await Connection.connect({ address: cfg.temporal.address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  try {
    const pipeline = await Worker.create({
      connection: workerConnection,
      namespace: cfg.temporal.namespace,
      taskQueue: queues.pipeline,
      workflowsPath: require.resolve('../../workflows'),
      activities: pipelineActivities,
    });
    const stream = await Worker.create({
      connection: workerConnection,
      namespace: cfg.temporal.namespace,
      taskQueue: queues.stream,
      activities: { consumeLease },
    });

    await pipeline.runUntil(
      stream.runUntil(async () => {
        await client.workflow.execute('loadJobs', {
          taskQueue: queues.pipeline,
          workflowId: `golden-jobs-${id}`,
          args: [{ path: path.join(FIXTURES, 'job_sample.csv') }],
        });
        const ingest: IngestAndPublishResult = await client.workflow.execute('ingestAndPublish', {
          taskQueue: queues.pipeline,
          workflowId: `golden-ingest-${id}`,
          args: [{ paths: [path.join(FIXTURES, 'tracking_sample.csv')] }],
        });
        assert.equal(ingest.files.length, 1);
        assert.equal(ingest.files[0]?.status, 'ingested');
        assert.equal(ingest.files[0]?.summary?.written, 57);
        assert.equal(ingest.publish.published, 57);

        const streamed: StreamResult = await client.workflow.execute('streamToWarehouse', {
          taskQueue: queues.pipeline,
          workflowId: `golden-stream-${id}`,
          args: [{ leaseMs: 30_000, stopWhenCaughtUp: true, streamTaskQueue: queues.stream }],
        });
        assert.equal(streamed.totals.consumed, 57);
        assert.equal(streamed.totals.counted, 23);
        recordHistory(cfg, 'loadJobs', `golden-jobs-${id}`);
        recordHistory(cfg, 'ingestAndPublish', `golden-ingest-${id}`);
        recordHistory(cfg, 'streamToWarehouse', `golden-stream-${id}`); // 11 clicks + 4 conversions + 4 qualified + 4 unqualified, from the table below
      }),
    );
  } finally {
    await connection.close();
    await workerConnection.close();
  }

  const exported = trackflow(cfg, 'export', 'events', '--csv');
  assert.equal(exported.status, 0, exported.stderr);
  assert.equal(exported.stdout.trim(), EXPECTED_EXPORT);

  const reconciled = trackflow(cfg, 'reconcile', '--json');
  assert.equal(reconciled.status, 0, reconciled.stdout + reconciled.stderr);
});
