import type { ActivityDeps } from './deps';
import type { PublishInput, PublishSummary } from './types';

export function createPublishActivities(_deps: ActivityDeps) {
  return {
    async publishPending(_input: PublishInput): Promise<PublishSummary> {
      throw new Error('publishPending is being implemented');
    },
  };
}
