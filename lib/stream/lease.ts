import type { Admin, CompressionTypes, Consumer, Kafka, Producer } from 'kafkajs';
import type { Pool } from 'mysql2/promise';
import type { ConsumerSlot, PartitionProgress } from './leaseSummary';
import type { ConsumeCounts } from '../domain/counters';
import type { FaultHook } from '../faults';
import type { Metrics } from '../metrics';
import type { JobDirectory } from './jobCompanyLookup';
import type { RetryScope } from './retry';
import type { StalledPartition, StallWatch } from './stall';

export interface StreamCounts extends ConsumeCounts {
  /** Batches refused by the offset compare-and-set (another attempt owned the partition). */
  fenced: number;
  /** Transient MySQL/Kafka errors retried inside the lease. */
  retries: number;
}

export interface TopicProgress {
  partitions: PartitionProgress[];
  lag: number;
}

/** What a lease is given and never changes: clients, names, limits, callbacks. */
export interface LeaseContext {
  kafka: Kafka;
  mysql: Pool;
  metrics: Metrics;
  topic: string;
  /** The logical consumer group MySQL keys offsets by. */
  group: string;
  deadLetterTopic: string;
  /** What dead letters are compressed with: the main topic's codec. */
  compression: CompressionTypes;
  slot?: ConsumerSlot;
  /** Messages per MySQL transaction. */
  chunkSize: number;
  /** Stored with each offset: which attempt wrote it. */
  attemptToken: string;
  jobs: JobDirectory;
  deadline: number;
  signal?: AbortSignal;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  fault?: FaultHook;
}

/** The lease's Kafka clients, set by connectLease and cleared by disconnectLease. */
export interface LeaseClients {
  admin?: Admin;
  producer?: Producer;
  consumer?: Consumer;
  /** The DLQ topic's max.message.bytes. */
  dlqMaxBatchBytes: number;
}

/** Everything a lease learns and changes while it runs, in one place, passed to each part. */
export interface LeaseState {
  counts: StreamCounts;
  /** Set by teardown: batch handlers return without committing. */
  stopping: boolean;
  /** Group generation, bumped on every join; a batch of an older generation stops. */
  generation: number;
  joined: boolean;
  /** Partitions of the current generation, ascending. */
  assigned: number[];
  /** Partition -> the generation in which its fetch position was checked against MySQL. */
  verified: Map<number, number>;
  /** Partition -> its earliest retained offset (where a partition with no stored offset starts). */
  earliest: Map<number, string>;
  unhealthySince: number | null;
  lastError?: string;
  progress: TopicProgress;
  stalled: StalledPartition[];
  /** The stalled partitions last logged, so the log line is written once per change. */
  stalledKey: string;
  stallWatch: StallWatch;
  clients: LeaseClients;
}

export interface Lease {
  ctx: LeaseContext;
  state: LeaseState;
}

export function zeroCounts(): StreamCounts {
  return {
    consumed: 0, counted: 0, filtered: 0, unattributed: 0, deadLettered: 0,
    duplicates: 0, redelivered: 0, unknownJob: 0, batches: 0, fenced: 0, retries: 0,
  };
}

export function newLeaseState(stallWatch: StallWatch): LeaseState {
  return {
    counts: zeroCounts(),
    stopping: false,
    generation: 0,
    joined: false,
    assigned: [],
    verified: new Map(),
    earliest: new Map(),
    unhealthySince: null,
    progress: { partitions: [], lag: 0 },
    stalled: [],
    stalledKey: '',
    stallWatch,
    clients: { dlqMaxBatchBytes: 0 },
  };
}

export function shouldStop(lease: Lease): boolean {
  return lease.state.stopping || Date.now() >= lease.ctx.deadline || lease.ctx.signal?.aborted === true;
}

/** A transient failure: counted, logged, and the lease is unhealthy until something succeeds again. */
export function noteError(lease: Lease, where: string, err: unknown): void {
  const { state, ctx } = lease;
  state.lastError = `${where}: ${(err as Error)?.message ?? String(err)}`;
  state.unhealthySince ??= Date.now();
  state.counts.retries += 1;
  ctx.metrics.inc('trackflow_stream_errors_total', 'Transient stream errors retried', 1, { where });
  ctx.log('stream error, retrying', { where, error: state.lastError });
}

export function noteHealthy(lease: Lease): void {
  lease.state.unhealthySince = null;
}

/** The lease as the retry loop sees it (lib/stream/retry.ts). */
export function retryScope(lease: Lease): RetryScope {
  return { shouldStop: () => shouldStop(lease), noteError: (where, err) => noteError(lease, where, err), signal: lease.ctx.signal };
}
