import type { ActivityDeps } from './deps';
import { createIngestActivities } from './ingest';
import { createJobActivities } from './jobCatalogue';
import { createPublishActivities } from './publish';
import { createConsumeActivities } from './consume';
import { createVerifyActivities } from './verify';

/** Every activity, bound to clients the worker built once. Workers register the subset their queue serves. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createIngestActivities(deps),
    ...createJobActivities(deps),
    ...createPublishActivities(deps),
    ...createConsumeActivities(deps),
    ...createVerifyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
