import type { ActivityDeps } from './deps';
import type { LoadJobsInput, LoadJobsSummary } from './types';

export function createJobActivities(_deps: ActivityDeps) {
  return {
    async loadJobs(_input: LoadJobsInput): Promise<LoadJobsSummary> {
      throw new Error('loadJobs is being implemented');
    },
  };
}
