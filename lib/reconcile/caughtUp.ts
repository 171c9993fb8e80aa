import type { TopicLag } from './lag';
import { readPendingBatches, readTopicLag } from './lag';
import { readStoredOffsets } from '../stream/commit';
import type { ReconcileDeps } from './gather';

export interface CaughtUpState {
  caughtUp: boolean;
  pendingBatches: number;
  lag: number;
  partitions: TopicLag['partitions'];
  elapsedMs: number;
}

export async function readCaughtUp(deps: ReconcileDeps): Promise<Omit<CaughtUpState, 'elapsedMs'>> {
  const pending = await readPendingBatches(deps.cassandra, deps.config.cassandra.keyspace);
  // Pending first: a batch that finishes publishing after this read is still covered by the watermarks read next.
  const offsets = await readStoredOffsets(deps.mysql, deps.config.kafka.consumerGroup, deps.config.kafka.topic);
  const lag = await readTopicLag(deps.kafka, deps.config.kafka.topic, offsets);
  return { caughtUp: pending.length === 0 && lag.lag === 0, pendingBatches: pending.length, lag: lag.lag, partitions: lag.partitions };
}

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Called on each poll; the CLI prints a progress line from it. */
  onProgress?: (s: CaughtUpState) => void;
  signal?: AbortSignal;
}

/** Polls until caught up or the timeout; resolves with the last state either way. */
export async function waitCaughtUp(deps: ReconcileDeps, opts: WaitOptions): Promise<CaughtUpState> {
  const started = Date.now();
  const pollMs = opts.pollMs ?? 1000;
  for (;;) {
    const state = { ...(await readCaughtUp(deps)), elapsedMs: Date.now() - started };
    opts.onProgress?.(state);
    if (state.caughtUp || state.elapsedMs >= opts.timeoutMs || opts.signal?.aborted) return state;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(0, opts.timeoutMs - state.elapsedMs))));
  }
}
