import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LoadJobsInput, LoadJobsSummary } from '../activities/types';
import { LOAD_JOBS_ACTIVITY } from './options';

const activities = proxyActivities<Activities>(LOAD_JOBS_ACTIVITY);

/** Loads the job dimension and back-fills warehouse rows whose job arrived late. */
export async function loadJobs(input: LoadJobsInput): Promise<LoadJobsSummary> {
  return activities.loadJobs({ path: input.path });
}
