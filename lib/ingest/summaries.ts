/** What the ingest stage reports: discovered exports and per-file summaries (activity results). */
import type { IngestCounts } from '../domain/counters';

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

export interface LoadJobsSummary {
  file: string;
  rowsRead: number;
  upserted: number;
  rejected: number;
  /** Warehouse rows whose company_id was filled in because their job arrived late. */
  warehouseRowsFixed: number;
}
