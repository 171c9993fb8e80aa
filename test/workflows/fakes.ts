import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ConsumeLeaseInput, ConsumeLeaseSummary, IngestSummary } from '../../activities/types';
import { counts } from './support';

/**
 * Behaves like the real lease: heartbeats while consuming, and on cancellation stops, "commits" what it
 * had and returns normally with endReason 'cancelled' (that is how drain keeps the in-flight batch).
 */
export function fakeConsumeLease(opts: { perLease?: number; caughtUpAfter?: number; failOn?: number[] } = {}) {
  const calls: Array<{ input: ConsumeLeaseInput; endReason: ConsumeLeaseSummary['endReason'] }> = [];
  let n = 0;
  async function consumeLease(input: ConsumeLeaseInput): Promise<ConsumeLeaseSummary> {
    const call = ++n;
    if (opts.failOn?.includes(call)) throw ApplicationFailure.nonRetryable('kafka: topic authorization failed', 'KafkaAuthError');
    const ctx = Context.current();
    const started = Date.now();
    let endReason: ConsumeLeaseSummary['endReason'] = 'lease-expired';
    while (Date.now() - started < input.leaseMs) {
      if (opts.caughtUpAfter !== undefined && call >= opts.caughtUpAfter) {
        endReason = 'caught-up';
        break;
      }
      ctx.heartbeat({ partitions: [{ partition: 0, nextOffset: String(call * 10), lag: 5 }] });
      const cancelled = await Promise.race([
        ctx.cancelled.then(() => false, () => true),
        new Promise<false>((r) => setTimeout(() => r(false), 50)),
      ]);
      if (cancelled) {
        endReason = 'cancelled';
        break;
      }
    }
    calls.push({ input, endReason });
    const per = opts.perLease ?? 10;
    return {
      counts: counts({ consumed: per, counted: per - 1, filtered: 1, batches: 1 }),
      partitions: [
        { partition: 0, nextOffset: String(call * per), lag: 3 },
        { partition: 1, nextOffset: String(call * per), lag: 4 },
      ],
      lag: 7,
      endReason,
      durationMs: Date.now() - started,
    };
  }
  return { consumeLease, calls };
}

export function ingestSummary(path: string, status: IngestSummary['status'] = 'ingested'): IngestSummary {
  return {
    file: path,
    contentHash: `hash-${path}`,
    ingestBatch: `batch-${path}`,
    status,
    rowsRead: 10,
    written: status === 'ingested' ? 10 : 0,
    alreadyPresent: 0,
    rejected: 0,
    resumedFromLine: 0,
    durationMs: 5,
  };
}
