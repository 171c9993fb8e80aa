import type { Client, ScheduleDescription, ScheduleOptions, ScheduleSummary } from '@temporalio/client';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { ingestAndPublish, verifyWarehouse } from '../workflows';
import { SCHEDULED_INGEST_WORKFLOW_ID, SCHEDULED_VERIFY_WORKFLOW_ID } from './ids';
import { DEFAULT_CRON, DEFAULT_SCHEDULE_ID, DEFAULT_VERIFY_CRON, DEFAULT_VERIFY_SCHEDULE_ID } from './scheduleDefaults';

export { DEFAULT_CRON, DEFAULT_SCHEDULE_ID, DEFAULT_VERIFY_CRON, DEFAULT_VERIFY_SCHEDULE_ID };

export type OverlapOption = 'skip' | 'buffer-one';
export const OVERLAP: Record<OverlapOption, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
};

export interface DailyIngestSchedule {
  scheduleId?: string;
  cron?: string;
  overlap?: OverlapOption;
  landingDir: string;
  /** The pipeline worker's task queue (config.temporal.taskQueues.pipeline). */
  taskQueue: string;
  paused?: boolean;
  note?: string;
}

/**
 * The daily ingest schedule. SKIP: if yesterday's run is still going, today's is dropped rather than
 * racing it over the same landing directory. A one-day catch-up window replays a run missed while the
 * server was down, and pauseOnFailure stops a broken pipeline from failing every night unnoticed.
 */
export function dailyIngestSchedule(opts: DailyIngestSchedule): ScheduleOptions {
  return {
    scheduleId: opts.scheduleId ?? DEFAULT_SCHEDULE_ID,
    spec: { cronExpressions: [opts.cron ?? DEFAULT_CRON], timezone: 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: ingestAndPublish,
      workflowId: SCHEDULED_INGEST_WORKFLOW_ID,
      taskQueue: opts.taskQueue,
      args: [{ landingDir: opts.landingDir }] satisfies Parameters<typeof ingestAndPublish>,
      memo: { landingDir: opts.landingDir, trigger: 'schedule' },
    },
    policies: {
      overlap: OVERLAP[opts.overlap ?? 'skip'],
      catchupWindow: '1 day',
      pauseOnFailure: true,
    },
    state: { paused: opts.paused ?? false, note: opts.note ?? 'Daily tracking ingest (replaces the Airflow DAG)' },
  };
}

export async function createSchedule(client: Client, opts: DailyIngestSchedule): Promise<string> {
  const handle = await client.schedule.create(dailyIngestSchedule(opts));
  return handle.scheduleId;
}

/** Rewrites a schedule's spec, action and policies to `wanted`, keeping its paused state (and its note unless given). */
async function replaceDefinition(client: Client, wanted: ScheduleOptions, note: string | undefined): Promise<void> {
  await client.schedule.getHandle(wanted.scheduleId).update((prev) => ({
    ...prev,
    spec: wanted.spec,
    action: wanted.action,
    policies: wanted.policies,
    state: { ...prev.state, note: note ?? prev.state.note },
  }));
}

/** Rewrites spec, action and policies to the current definition, keeping the paused state. */
export async function updateSchedule(client: Client, opts: DailyIngestSchedule): Promise<void> {
  await replaceDefinition(client, dailyIngestSchedule(opts), opts.note);
}

export interface ScheduleView {
  scheduleId: string;
  paused: boolean;
  note?: string;
  cron?: string[];
  workflowType?: string;
  nextRuns: string[];
  recentRuns: Array<{ scheduledAt: string; workflowId: string }>;
}

export function viewOf(s: ScheduleSummary | (ScheduleDescription & { scheduleId: string })): ScheduleView {
  const action = s.action as { workflowType?: string } | undefined;
  type Ranges = Array<{ start: number | string }> | undefined;
  const spec = s.spec as { cronExpressions?: string[]; calendars?: Array<{ hour?: Ranges; minute?: Ranges }> } | undefined;
  // The server stores cron strings as calendar specs; render the common daily case back as cron.
  const cron =
    spec?.cronExpressions ??
    spec?.calendars?.map((c) => `${c.minute?.map((r) => r.start).join(',') ?? '0'} ${c.hour?.map((r) => r.start).join(',') ?? '0'} * * *`);
  return {
    scheduleId: s.scheduleId,
    paused: s.state.paused,
    note: s.state.note,
    cron,
    workflowType: action?.workflowType,
    nextRuns: s.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()),
    recentRuns: s.info.recentActions.slice(-5).map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
  };
}

export async function listSchedules(client: Client): Promise<ScheduleView[]> {
  const out: ScheduleView[] = [];
  for await (const s of client.schedule.list()) out.push(viewOf(s));
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}


export interface DailyVerifySchedule {
  scheduleId?: string;
  cron?: string;
  overlap?: OverlapOption;
  taskQueue: string;
  paused?: boolean;
  note?: string;
}

/**
 * The daily verify of yesterday's hours (UTC). The run fails on a difference (failOnDifference), and
 * pauseOnFailure then pauses the schedule with the failure showing in the Web UI: someone has to look, rebuild,
 * and unpause.
 */
export function dailyVerifySchedule(opts: DailyVerifySchedule): ScheduleOptions {
  return {
    scheduleId: opts.scheduleId ?? DEFAULT_VERIFY_SCHEDULE_ID,
    spec: { cronExpressions: [opts.cron ?? DEFAULT_VERIFY_CRON], timezone: 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: verifyWarehouse,
      workflowId: SCHEDULED_VERIFY_WORKFLOW_ID,
      taskQueue: opts.taskQueue,
      args: [{ previousDay: true, failOnDifference: true }] satisfies Parameters<typeof verifyWarehouse>,
      memo: { trigger: 'schedule' },
    },
    policies: {
      overlap: OVERLAP[opts.overlap ?? 'skip'],
      catchupWindow: '1 day',
      pauseOnFailure: true,
    },
    state: { paused: opts.paused ?? false, note: opts.note ?? "Daily verify of yesterday's warehouse hours against the lake" },
  };
}

export async function createVerifySchedule(client: Client, opts: DailyVerifySchedule): Promise<string> {
  const handle = await client.schedule.create(dailyVerifySchedule(opts));
  return handle.scheduleId;
}

export async function updateVerifySchedule(client: Client, opts: DailyVerifySchedule): Promise<void> {
  await replaceDefinition(client, dailyVerifySchedule(opts), opts.note);
}
