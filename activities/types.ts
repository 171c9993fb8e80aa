/**
 * Inputs and outputs of every activity: single typed, JSON-friendly objects.
 * Workflows import this file for types only; activity implementations live beside it.
 */
import type { ConsumeCounts, IngestCounts, PublishCounts } from '../lib/domain/counters';

export interface DiscoverFilesInput {
  /** Directory scanned for *.csv and *.csv.gz tracking exports. */
  landingDir: string;
}

export interface DiscoveredFile {
  path: string;
  contentHash: string;
  sizeBytes: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

export interface DiscoverFilesResult {
  /** Tracking exports whose content hash has not been fully ingested yet, sorted by path. */
  newFiles: DiscoveredFile[];
  /** Tracking exports already ingested (same content hash), skipped. */
  alreadyIngested: DiscoveredFile[];
  /** Job exports (recognised by header), loaded into the job dimension before the tracking files. */
  jobFiles?: DiscoveredFile[];
  /** Files that are neither a tracking nor a job export, with the reason; never a failure. */
  skipped?: SkippedFile[];
}

export interface IngestFileInput {
  path: string;
}

export interface IngestSummary extends IngestCounts {
  file: string;
  contentHash: string;
  ingestBatch: string;
  /** 'duplicate-file' when this exact content was ingested before: nothing is written. */
  status: 'ingested' | 'duplicate-file';
  /** Line the attempt resumed from (0 for a fresh start), visible in the Web UI. */
  resumedFromLine: number;
  durationMs: number;
}

export interface PublishInput {
  /** Optional cap per activity run; the workflow calls again while `more` is true. */
  maxEvents?: number;
  /** Publish only the pending batches of this share (batch hash mod count = index), for P activities at once. */
  share?: { index: number; count: number };
}

export interface PublishSummary extends PublishCounts {
  batches: number;
  ingestBatches: string[];
  more: boolean;
  durationMs: number;
}

export interface ConsumeLeaseInput {
  /** The lease: return after this long so the workflow can loop (Temporal activities should end). */
  leaseMs: number;
  /** Return early once every partition is caught up (used by tests and `--once`). */
  stopWhenCaughtUp?: boolean;
  /** This lease is consumer `index` of `count`: it owns the partitions p with p mod count = index. Absent: all. */
  consumer?: ConsumerSlot;
}

export interface ConsumerSlot {
  index: number;
  count: number;
}

/** Who ran a lease of one consumer slot and what it owned (summary and heartbeat details). */
export interface ConsumerIdentity extends ConsumerSlot {
  /** `host:pid` of the stream worker process that ran the lease. */
  worker: string;
  partitions: number[];
}

export interface PartitionProgress {
  partition: number;
  nextOffset: string;
  lag: number;
}

export type { ConsumeCounts } from '../lib/domain/counters';

export interface ConsumeLeaseSummary {
  counts: ConsumeCounts;
  partitions: PartitionProgress[];
  lag: number;
  endReason: 'lease-expired' | 'caught-up' | 'cancelled';
  lastError?: string;
  durationMs: number;
  /** Set when the lease ran as one of several consumers; `partitions` then lists only its own. */
  consumer?: ConsumerIdentity;
}

export interface LoadJobsInput {
  path: string;
}

export interface LoadJobsSummary {
  file: string;
  rowsRead: number;
  upserted: number;
  rejected: number;
  /** Warehouse rows whose company_id was filled in because their job arrived late. */
  warehouseRowsFixed: number;
}
