import crypto from 'node:crypto';
import type { ActivityDeps } from '../clients/deps';
import type { ConsumeLeaseSummary, ConsumerSlot } from './leaseSummary';
import type { FaultHook } from '../faults';
import { compressionType } from '../clients/kafkaCodecs';
import { connectWithRetry, disconnectLease } from './fetch';
import { JobDirectory } from './jobCompanyLookup';
import type { Lease, StreamCounts } from './lease';
import { newLeaseState, noteError, noteHealthy } from './lease';
import { caughtUp, consumerIdentity, heartbeatDetails, observeStalls, ownProgress, refreshProgress, workerIdentity } from './progress';
import { sleep } from './retry';
import { checkSlot } from './slice';
import { StallWatch, stallStatus } from './stall';
import type { StalledPartition } from './stall';
import { StreamUnavailableError } from '../domain/errors';

export { DLQ_HEADERS } from './deadLetter';
export type { StreamCounts } from './lease';
export { workerIdentity } from './progress';

export interface StreamLeaseSummary extends ConsumeLeaseSummary {
  counts: StreamCounts;
  /** Partitions whose offset did not move for `stallMs` while they had lag, at the end of the lease. */
  stalled: StalledPartition[];
  /** `ok`, or one line per stalled partition. */
  status: string;
}

export interface StreamLeaseOptions {
  leaseMs: number;
  stopWhenCaughtUp?: boolean;
  /** Messages per MySQL transaction; kafkajs batches larger than this are split. */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  maxBytesPerPartition?: number;
  jobCacheTtlMs?: number;
  unknownJobTtlMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  /** A partition with lag whose stored offset has not moved for this long is reported stalled (default 60 s). */
  stallMs?: number;
  /** Temporal's heartbeat, when running as an activity. */
  heartbeat?: (details: unknown) => void;
  /** Temporal's cancellation, when running as an activity. */
  signal?: AbortSignal;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Consumer `index` of `count`: only the partitions p with p mod count = index (lib/stream/slice.ts). */
  consumer?: ConsumerSlot;
  /** Test-only fault hook (lib/faults.ts), called around each batch commit. */
  fault?: FaultHook;
}

export { StreamUnavailableError };

function openLease(deps: ActivityDeps, opts: StreamLeaseOptions): Lease {
  const { topic, consumerGroup, deadLetterTopic, compression } = deps.config.kafka;
  return {
    ctx: {
      kafka: deps.kafka, mysql: deps.mysql, metrics: deps.metrics, topic, group: consumerGroup, deadLetterTopic,
      compression: compressionType(compression),
      slot: opts.consumer,
      chunkSize: opts.chunkSize ?? 5000,
      attemptToken: `${workerIdentity()}:${crypto.randomBytes(4).toString('hex')}`.slice(0, 64),
      jobs: new JobDirectory(deps.mysql, { knownTtlMs: opts.jobCacheTtlMs ?? 60_000, unknownTtlMs: opts.unknownJobTtlMs ?? 10_000 }),
      deadline: Date.now() + opts.leaseMs,
      signal: opts.signal,
      log: opts.log ?? (() => undefined),
      fault: opts.fault,
    },
    state: newLeaseState(new StallWatch(opts.stallMs ?? 60_000)),
  };
}

/**
 * While the consumer fetches (in the background), refreshes progress and heartbeats every `heartbeatMs`
 * until the lease ends: deadline, cancellation, or every partition caught up when `stopWhenCaughtUp`.
 */
async function watchLease(lease: Lease, opts: StreamLeaseOptions): Promise<ConsumeLeaseSummary['endReason']> {
  const { state, ctx } = lease;
  const heartbeatMs = opts.heartbeatMs ?? 2000;
  let lastBeat = 0;
  let lastProgress = 0;
  while (state.clients.admin && state.clients.consumer) {
    if (ctx.signal?.aborted) return 'cancelled';
    const now = Date.now();
    if (now >= ctx.deadline) return 'lease-expired';
    if (opts.stopWhenCaughtUp || now - lastProgress >= heartbeatMs) {
      try {
        const progress = await refreshProgress(lease, state.clients.admin);
        lastProgress = now;
        if (ownProgress(progress, ctx.slot).lag === 0) noteHealthy(lease);
        observeStalls(lease, now);
        if (opts.stopWhenCaughtUp && caughtUp(progress, ctx.slot, state)) return 'caught-up';
      } catch (err) {
        noteError(lease, 'progress', err);
      }
    }
    if (now - lastBeat >= heartbeatMs) {
      lastBeat = now;
      opts.heartbeat?.(heartbeatDetails(state, ctx.slot));
    }
    await sleep(opts.pollMs ?? 250, ctx.signal);
  }
  return ctx.signal?.aborted ? 'cancelled' : 'lease-expired';
}

/** After disconnect: the final progress (what the summary reports) read once more, then the admin closed. */
async function closeLease(lease: Lease): Promise<void> {
  const admin = lease.state.clients.admin;
  if (!admin) return;
  try {
    await refreshProgress(lease, admin);
  } catch (err) {
    noteError(lease, 'progress', err);
  }
  await admin.disconnect().catch(() => undefined);
}

function leaseSummary(lease: Lease, endReason: ConsumeLeaseSummary['endReason'], started: number): StreamLeaseSummary {
  const { state, ctx } = lease;
  const own = ownProgress(state.progress, ctx.slot);
  const consumer = consumerIdentity(ctx.slot, own.partitions);
  return {
    counts: state.counts,
    partitions: own.partitions,
    lag: own.lag,
    ...(consumer ? { consumer } : {}),
    endReason,
    lastError: state.lastError,
    durationMs: Date.now() - started,
    stalled: state.stalled,
    status: stallStatus(state.stalled),
  };
}

/**
 * One lease of the warehouse consumer: joins the group, consumes until the lease ends, every partition is
 * caught up (optional) or the signal aborts, then leaves the group. MySQL holds the offsets; Kafka's group
 * offsets are never committed. Transient failures are retried inside the lease; if the lease ends while the
 * stream is still failing, StreamUnavailableError is thrown so the caller (Temporal) retries.
 */
export async function runConsumeLease(deps: ActivityDeps, opts: StreamLeaseOptions): Promise<StreamLeaseSummary> {
  checkSlot(opts.consumer);
  const started = Date.now();
  const lease = openLease(deps, opts);
  let endReason: ConsumeLeaseSummary['endReason'] = 'lease-expired';
  try {
    await connectWithRetry(lease, deps.config.kafka.partitions, opts);
    endReason = await watchLease(lease, opts);
    if (opts.signal?.aborted) endReason = 'cancelled';
  } finally {
    // Stop fetching; an in-flight transaction commits or rolls back before disconnect returns.
    await disconnectLease(lease);
  }
  await closeLease(lease);
  const { unhealthySince, lastError } = lease.state;
  if (unhealthySince !== null && endReason !== 'cancelled' && endReason !== 'caught-up') {
    throw new StreamUnavailableError(`stream unavailable since ${new Date(unhealthySince).toISOString()}: ${lastError}`);
  }
  return leaseSummary(lease, endReason, started);
}
