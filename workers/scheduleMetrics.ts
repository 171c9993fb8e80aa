import type { Client } from '@temporalio/client';
import type { Metrics } from '../lib/metrics';

/** Sets trackflow_schedule_paused{schedule} for every schedule that starts ingestAndPublish. */
export async function updateScheduleMetrics(client: Client, metrics: Metrics): Promise<void> {
  for await (const s of client.schedule.list()) {
    if (s.action?.type !== 'startWorkflow' || s.action.workflowType !== 'ingestAndPublish') continue;
    metrics.set('trackflow_schedule_paused', '', s.state.paused ? 1 : 0, { schedule: s.scheduleId });
  }
}

/**
 * Polls the schedules every `everyMs` (a paused schedule stops all ingest silently otherwise). Errors are
 * ignored: Temporal being unreachable already shows as the worker's own problem. Returns a stop function.
 */
export function watchSchedules(client: Client, metrics: Metrics, everyMs = 30_000): () => void {
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    updateScheduleMetrics(client, metrics)
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  let timer: NodeJS.Timeout = setTimeout(tick, 0);
  timer.unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
