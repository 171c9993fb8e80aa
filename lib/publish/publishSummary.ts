/** What one publish run reports (activity result). */

export interface PublishSummary {
  published: number;
  batches: number;
  quarantined: number;
  ingestBatches: string[];
  more: boolean;
  durationMs: number;
}
