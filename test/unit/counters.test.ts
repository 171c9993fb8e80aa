import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INGEST_ROW_RESULTS, STREAM_COUNTER_COLUMNS, STREAM_EVENT_RESULTS } from '../../lib/domain/counters';
import { CATALOGUE } from '../../lib/metrics';

const initialResults = (name: string) =>
  (CATALOGUE.find((m) => m.name === name)?.initial ?? []).map((l) => (l as Record<string, string>)['result']).sort();

void test('the metric result labels are the shared counter outcomes, each one declared from zero', () => {
  assert.deepEqual(initialResults('trackflow_stream_events_total'), ['counted', 'dead_lettered', 'duplicate', 'filtered', 'redelivered', 'unattributed']);
  assert.deepEqual(Object.values(STREAM_EVENT_RESULTS).sort(), initialResults('trackflow_stream_events_total'));
  assert.deepEqual(Object.values(INGEST_ROW_RESULTS).sort(), initialResults('trackflow_ingest_rows_total'));
});

void test('every consume counter has its stream_counters column (migrations/mysql)', () => {
  assert.deepEqual(Object.values(STREAM_COUNTER_COLUMNS).sort(), [
    'batches', 'consumed', 'counted', 'dead_lettered', 'duplicates', 'filtered', 'redelivered', 'unattributed', 'unknown_job',
  ]);
});
