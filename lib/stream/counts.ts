import { STREAM_EVENT_RESULTS as R } from '../domain/counters';
import type { Metrics } from '../metrics';
import type { BatchCommitResult } from './commit';
import type { StreamCounts } from './lease';

export type CommittedBatch = Extract<BatchCommitResult, { status: 'committed' }>;

const EVENTS_HELP = 'Stream messages by outcome';

/** Adds a committed transaction's outcome to the lease's counts. */
export function addCommitted(counts: StreamCounts, result: CommittedBatch): void {
  counts.batches += 1;
  counts.consumed += result.counts.consumed;
  counts.filtered += result.counts.filtered;
  counts.unattributed += result.counts.unattributed;
  counts.deadLettered += result.counts.deadLettered;
  counts.counted += result.counted;
  counts.duplicates += result.duplicates;
  counts.redelivered += result.redelivered;
  counts.unknownJob += result.unknownJob;
}

/** The worker's series for one committed transaction (docs/metrics.md). */
export function recordCommitMetrics(
  metrics: Metrics,
  result: CommittedBatch,
  batch: { partition: number; seconds: number; oldestTimestamp: number; deadLettered: number },
): void {
  const events = (n: number, outcome: string) => metrics.inc('trackflow_stream_events_total', EVENTS_HELP, n, { result: outcome });
  events(result.counted, R.counted);
  events(result.counts.filtered, R.filtered);
  events(result.counts.unattributed, R.unattributed);
  events(result.counts.deadLettered, R.deadLettered);
  events(result.redelivered, R.redelivered);
  events(result.duplicates, R.duplicates);
  metrics.inc('trackflow_stream_dead_lettered_total', 'Poison messages sent to the dead-letter topic', batch.deadLettered);
  metrics.observe('trackflow_stream_batch_seconds', batch.seconds);
  if (batch.oldestTimestamp > 0) metrics.observe('trackflow_publish_to_warehouse_seconds', Math.max(0, Date.now() - batch.oldestTimestamp) / 1000);
  metrics.set('trackflow_stream_partition_last_progress_timestamp_seconds', '', Date.now() / 1000, { partition: String(batch.partition) });
}
