import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { CATALOGUE, Metrics, metricsListenHost } from '../../lib/metrics';
import { sdkMetricsPort } from '../../workers/runWorker';

test('every catalogued series is exported from zero before its first event', async () => {
  const text = await new Metrics().render();
  for (const name of [
    'trackflow_stream_fenced_total 0',
    'trackflow_stream_dead_lettered_total 0',
    'trackflow_stream_errors_total{where="commit"} 0',
    'trackflow_ingest_files_total{kind="tracking",result="failed"} 0',
    'trackflow_activity_retries_total{activity="ingestFile"} 0',
    'trackflow_stream_events_total{result="counted"} 0',
    'trackflow_stream_batch_seconds_count 0',
    'trackflow_stream_lease_seconds_bucket{le="60"} 0',
    'trackflow_publish_to_warehouse_seconds_sum 0',
    'trackflow_stream_lag 0',
  ]) {
    assert.ok(text.includes(`\n${name}\n`), `${name} missing`);
  }
  for (const spec of CATALOGUE) assert.match(text, new RegExp(`^# TYPE ${spec.name} ${spec.type}$`, 'm'), spec.name);
  assert.doesNotMatch(text, /trackflow_stream_batch_seconds_sum [^0]|# TYPE trackflow_stream_batch_seconds_sum/, 'no hand-made _sum series');
});

test('histograms count observations into buckets; per-partition gauges carry the partition label', async () => {
  const m = new Metrics();
  m.observe('trackflow_stream_batch_seconds', 0.03);
  m.observe('trackflow_stream_batch_seconds', 3);
  m.set('trackflow_stream_partition_lag_messages', '', 42, { partition: '3' });
  m.inc('trackflow_stream_fenced_total', '');
  const text = await m.render();
  assert.match(text, /^trackflow_stream_batch_seconds_bucket\{le="0\.05"\} 1$/m);
  assert.match(text, /^trackflow_stream_batch_seconds_bucket\{le="5"\} 2$/m);
  assert.match(text, /^trackflow_stream_batch_seconds_count 2$/m);
  assert.match(text, /^trackflow_stream_partition_lag_messages\{partition="3"\} 42$/m);
  assert.match(text, /^trackflow_stream_fenced_total 1$/m);
});

test('process metrics on request, another exporter appended, served on the configured host', async () => {
  const m = new Metrics({ processMetrics: true });
  m.appendFrom(async () => '# TYPE temporal_worker_task_slots_available gauge\ntemporal_worker_task_slots_available 5\n');
  const server = await m.serve(0, () => ({ ok: true }), '127.0.0.1');
  try {
    const port = (server.address() as { port: number }).port;
    const body = await new Promise<string>((resolve, reject) =>
      http.get(`http://127.0.0.1:${port}/metrics`, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve(b));
      }).on('error', reject),
    );
    assert.match(body, /^process_cpu_user_seconds_total /m);
    assert.match(body, /^nodejs_heap_size_used_bytes /m);
    assert.match(body, /^temporal_worker_task_slots_available 5$/m);
  } finally {
    server.close();
  }
  assert.equal(metricsListenHost({}), '127.0.0.1');
  assert.equal(metricsListenHost({ TRACKFLOW_METRICS_HOST: '0.0.0.0' }), '0.0.0.0');
  assert.equal(sdkMetricsPort(9464, {}), 9564);
  assert.equal(sdkMetricsPort(0, {}), undefined);
  assert.equal(sdkMetricsPort(9464, { TRACKFLOW_SDK_METRICS_PORT: '0' }), undefined);
  assert.equal(sdkMetricsPort(9464, { TRACKFLOW_SDK_METRICS_PORT: '9999' }), 9999);
});

test('each worker exports its own series from zero, not the other worker\'s', async () => {
  const pipeline = await new Metrics({ worker: 'pipeline' }).render();
  const stream = await new Metrics({ worker: 'stream' }).render();
  assert.match(pipeline, /^trackflow_ingest_files_total\{kind="tracking",result="failed"\} 0$/m);
  assert.doesNotMatch(pipeline, /trackflow_stream_lag/);
  assert.match(stream, /^trackflow_stream_lag 0$/m);
  assert.doesNotMatch(stream, /trackflow_ingest_files_total/);
  for (const text of [pipeline, stream]) assert.match(text, /^# TYPE trackflow_activity_retries_total counter$/m);
});
