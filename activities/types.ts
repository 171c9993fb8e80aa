/**
 * Inputs and outputs of every activity: single typed, JSON-friendly objects.
 * Workflows import this file for types only; activity implementations live beside it.
 * Result types are defined by the stage that produces them and re-exported here.
 */

import type { ConsumerSlot } from '../lib/stream/leaseSummary';

export type { DiscoverFilesResult, DiscoveredFile, IngestSummary, LoadJobsSummary, SkippedFile } from '../lib/ingest/summaries';
export type { PublishSummary } from '../lib/publish/publishSummary';
export type {
  ConsumeCounts,
  ConsumeLeaseSummary,
  ConsumerIdentity,
  ConsumerSlot,
  PartitionProgress,
} from '../lib/stream/leaseSummary';

export interface DiscoverFilesInput {
  /** Directory scanned for *.csv and *.csv.gz tracking exports. */
  landingDir: string;
}

export interface IngestFileInput {
  path: string;
}

export interface PublishInput {
  /** Optional cap per activity run; the workflow calls again while `more` is true. */
  maxEvents?: number;
  /** Publish only the pending batches of this share (batch hash mod count = index), for P activities at once. */
  share?: { index: number; count: number };
}

export interface ConsumeLeaseInput {
  /** The lease: return after this long so the workflow can loop (Temporal activities should end). */
  leaseMs: number;
  /** Return early once every partition is caught up (used by tests and `--once`). */
  stopWhenCaughtUp?: boolean;
  /** This lease is consumer `index` of `count`: it owns the partitions p with p mod count = index. Absent: all. */
  consumer?: ConsumerSlot;
}

export interface LoadJobsInput {
  path: string;
}

