import type { PublishCounts } from '../domain/counters';

/** What one publish run reports (activity result). */
export interface PublishSummary extends PublishCounts {
  batches: number;
  ingestBatches: string[];
  more: boolean;
  durationMs: number;
}
