import assert from 'node:assert/strict';
import test from 'node:test';
import type { Context as ActivityContext } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Metrics } from '../../lib/metrics';
import { activityMetricsInterceptor } from '../../workers/activityMetrics';

type Next = () => Promise<unknown>;

async function run(metrics: Metrics, activityType: string, next: Next): Promise<void> {
  const ctx = { info: { activityType } } as unknown as ActivityContext;
  const inbound = activityMetricsInterceptor(metrics)(ctx).inbound as { execute(input: unknown, next: Next): Promise<unknown> };
  await inbound.execute({}, next).catch(() => undefined);
}

/** At least `ms` by the monotonic clock: a timer may fire a fraction of a millisecond early by that clock. */
const pause = (ms: number) => async () => {
  const start = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - start) / 1e6 < ms) await new Promise((resolve) => setTimeout(resolve, 1));
};

test('every attempt is timed by activity and outcome; a finished file is counted and timed by kind', async () => {
  const m = new Metrics({ worker: 'pipeline' });
  await run(m, 'ingestFile', pause(30));
  await run(m, 'ingestFile', () => Promise.reject(new Error('cassandra timeout')));
  await run(m, 'loadJobs', () => Promise.reject(ApplicationFailure.nonRetryable('bad header', 'InvalidExport')));
  await run(m, 'publishPending', () => Promise.reject(new CancelledFailure('cancelled')));
  const text = await m.render();
  assert.match(text, /^trackflow_activity_duration_seconds_count\{activity="ingestFile",result="ok"\} 1$/m);
  assert.match(text, /^trackflow_activity_duration_seconds_bucket\{le="0.01",activity="ingestFile",result="ok"\} 0$/m, 'took 30 ms');
  const sum = Number(/^trackflow_activity_duration_seconds_sum\{activity="ingestFile",result="ok"\} (\S+)$/m.exec(text)?.[1]);
  assert.ok(sum >= 0.03 && sum < 10, `ingestFile ok took ${sum} s`);
  assert.match(text, /^trackflow_activity_duration_seconds_count\{activity="ingestFile",result="retry"\} 1$/m);
  assert.match(text, /^trackflow_activity_duration_seconds_count\{activity="loadJobs",result="failed"\} 1$/m);
  assert.match(text, /^trackflow_activity_duration_seconds_count\{activity="publishPending",result="cancelled"\} 1$/m);
  assert.match(text, /^trackflow_activity_retries_total\{activity="ingestFile"\} 1$/m);
  assert.match(text, /^trackflow_activity_retries_total\{activity="publishPending"\} 0$/m, 'a cancellation is no retry');
  assert.match(text, /^trackflow_ingest_file_seconds_count\{kind="tracking",result="ok"\} 1$/m);
  assert.match(text, /^trackflow_ingest_file_seconds_count\{kind="job",result="failed"\} 1$/m);
  assert.match(text, /^trackflow_ingest_files_total\{kind="tracking",result="failed"\} 0$/m, 'a retried attempt has not finished its file');
});

test('the duration series exist from zero, and the stream commit histogram only on the stream worker', async () => {
  const pipeline = await new Metrics({ worker: 'pipeline' }).render();
  const stream = await new Metrics({ worker: 'stream' }).render();
  assert.match(pipeline, /^trackflow_activity_duration_seconds_count\{activity="verifyHours",result="ok"\} 0$/m);
  assert.match(stream, /^trackflow_stream_commit_seconds_count 0$/m);
  assert.doesNotMatch(pipeline, /trackflow_stream_commit_seconds/);
  assert.doesNotMatch(stream, /trackflow_ingest_file_seconds/);
});
