import type { ActivityDeps } from './deps';
import type { DiscoverFilesInput, DiscoverFilesResult, IngestFileInput, IngestSummary } from './types';

export function createIngestActivities(_deps: ActivityDeps) {
  return {
    async discoverFiles(_input: DiscoverFilesInput): Promise<DiscoverFilesResult> {
      throw new Error('discoverFiles is being implemented');
    },
    async ingestFile(_input: IngestFileInput): Promise<IngestSummary> {
      throw new Error('ingestFile is being implemented');
    },
  };
}
