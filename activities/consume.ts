import type { ActivityDeps } from './deps';
import type { ConsumeLeaseInput, ConsumeLeaseSummary } from './types';

export function createConsumeActivities(_deps: ActivityDeps) {
  return {
    async consumeLease(_input: ConsumeLeaseInput): Promise<ConsumeLeaseSummary> {
      throw new Error('consumeLease is being implemented');
    },
  };
}
