import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import { config } from '../../lib/config';
import type { Command } from './command';
import { EXIT, UsageError, output, wantsHelp } from './command';
import { parseFlags, withTemporal } from '../../client/cli';
import type { OverlapOption } from '../../client/schedules';
import { DEFAULT_CRON, DEFAULT_SCHEDULE_ID, OVERLAP, createSchedule, listSchedules, updateSchedule, viewOf } from '../../client/schedules';
import { DEFAULT_VERIFY_CRON, DEFAULT_VERIFY_SCHEDULE_ID, createVerifySchedule, updateVerifySchedule } from '../../client/schedules';

const SUB_HELP: Record<string, string> = {
  create: `Usage: trackflow schedule create [--id ID] [--cron EXPR] [--overlap skip|buffer-one] [--landing DIR] [--paused]

Creates the daily ingest schedule: starts ingestAndPublish on the pipeline task queue with
{ landingDir }. Defaults: id ${DEFAULT_SCHEDULE_ID}, cron "${DEFAULT_CRON}" (UTC), overlap skip,
catch-up window 1 day, pause on failure. Fails (exit 1) if the schedule already exists: use update.

       trackflow schedule create --verify [--id ID] [--cron EXPR] [--overlap skip|buffer-one] [--paused]

Creates the daily verify instead: starts verifyWarehouse of yesterday's UTC hours, failing the run on a
difference so the schedule pauses. Defaults: id ${DEFAULT_VERIFY_SCHEDULE_ID}, cron "${DEFAULT_VERIFY_CRON}" (UTC).
With --verify, every other sub-command's default --id is ${DEFAULT_VERIFY_SCHEDULE_ID}.`,
  update: `Usage: trackflow schedule update [--verify] [--id ID] [--cron EXPR] [--overlap skip|buffer-one] [--landing DIR]

Rewrites the schedule's spec, action and policies to the given (or default) values; the paused
state is kept.`,
  delete: `Usage: trackflow schedule delete [--id ID]

Deletes the schedule. Runs it already started are not affected.`,
  list: `Usage: trackflow schedule list [--json]

Lists every schedule in the namespace with its cron, paused state, next runs and recent runs.`,
  pause: `Usage: trackflow schedule pause [--id ID] [--note TEXT]

Stops the schedule from starting runs until unpaused. The note shows in the Web UI.`,
  unpause: `Usage: trackflow schedule unpause [--id ID] [--note TEXT]

Resumes a paused schedule (also after pauseOnFailure paused it).`,
  trigger: `Usage: trackflow schedule trigger [--id ID] [--overlap skip|buffer-one]

Starts a run now. With the default overlap (skip) nothing happens while a run is in progress.`,
  backfill: `Usage: trackflow schedule backfill --from TIME --to TIME [--id ID] [--overlap skip|buffer-one]

Takes the actions the schedule would have taken between two ISO-8601 times (e.g. after an outage
longer than the one-day catch-up window). With skip, overlapping runs are dropped; buffer-one runs
them one after another.`,
};

const HELP = `Usage: trackflow schedule <create|update|delete|list|pause|unpause|trigger|backfill> [options]

Manages the Temporal schedule that runs ingestAndPublish daily (replacing the Airflow DAG).
trackflow schedule <sub-command> --help shows each sub-command's options.

${Object.values(SUB_HELP).map((h) => h.split('\n')[0]).join('\n')}`;

function overlapOf(value: string | undefined): OverlapOption {
  const v = value ?? 'skip';
  if (v !== 'skip' && v !== 'buffer-one') throw new UsageError(`--overlap must be skip or buffer-one, got "${v}"`);
  return v;
}

function dateOf(flag: string, value: string | undefined): Date {
  if (!value) throw new UsageError(`${flag} is required`);
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} must be an ISO-8601 time, got "${value}"`);
  return d;
}

const COMMON = { id: { type: 'string' }, json: { type: 'boolean' } } as const;

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP + '\n');
    return sub ? EXIT.ok : EXIT.usage;
  }
  const subHelp = SUB_HELP[sub];
  if (!subHelp) throw new UsageError(`unknown sub-command "${sub}"`);
  if (wantsHelp(rest)) {
    process.stdout.write(subHelp + '\n');
    return EXIT.ok;
  }

  const defineOpts = {
    ...COMMON,
    cron: { type: 'string' },
    overlap: { type: 'string' },
    landing: { type: 'string' },
    paused: { type: 'boolean' },
    note: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    verify: { type: 'boolean' },
  } as const;
  const { values } = parseFlags(rest, defineOpts);
  const verify = values.verify ?? false;
  if (verify && values.landing) throw new UsageError('--landing is for the ingest schedule, not --verify');
  const id = values.id ?? (verify ? DEFAULT_VERIFY_SCHEDULE_ID : DEFAULT_SCHEDULE_ID);
  const json = values.json ?? false;
  const definition = () => ({
    scheduleId: id,
    cron: values.cron,
    overlap: overlapOf(values.overlap),
    landingDir: values.landing ?? config().landingDir,
    taskQueue: config().temporal.taskQueues.pipeline,
    paused: values.paused,
    note: values.note,
  });
  const from = sub === 'backfill' ? dateOf('--from', values.from) : undefined;
  const to = sub === 'backfill' ? dateOf('--to', values.to) : undefined;
  if (from && to && from >= to) throw new UsageError('--from must be before --to');

  return withTemporal(async (client) => {
    const handle = client.schedule.getHandle(id);
    try {
      switch (sub) {
        case 'create': {
          if (verify) {
            await createVerifySchedule(client, definition());
            output(json, { scheduleId: id, created: true }, () => `Created schedule ${id}: verifyWarehouse of yesterday's hours at "${values.cron ?? DEFAULT_VERIFY_CRON}" UTC, failing (and pausing) on a difference.`);
            return EXIT.ok;
          }
          const def = definition();
          await createSchedule(client, def);
          output(json, { scheduleId: id, created: true }, () => `Created schedule ${id}: ingestAndPublish of ${def.landingDir} at "${def.cron ?? DEFAULT_CRON}" UTC, overlap ${def.overlap}.`);
          return EXIT.ok;
        }
        case 'update':
          await (verify ? updateVerifySchedule : updateSchedule)(client, definition());
          output(json, { scheduleId: id, updated: true }, () => `Updated schedule ${id}.`);
          return EXIT.ok;
        case 'delete':
          await handle.delete();
          output(json, { scheduleId: id, deleted: true }, () => `Deleted schedule ${id}.`);
          return EXIT.ok;
        case 'list': {
          const all = await listSchedules(client);
          output(json, all, () =>
            all.length === 0
              ? 'No schedules. Create the daily ingest with: trackflow schedule create'
              : all
                  .map((s) =>
                    [
                      `${s.scheduleId}${s.paused ? '  [paused]' : ''}  ${s.workflowType ?? ''}  cron ${s.cron?.join(', ') ?? '-'}`,
                      `  next: ${s.nextRuns.join(', ') || '-'}`,
                      `  recent: ${s.recentRuns.map((r) => r.workflowId).join(', ') || '-'}`,
                      s.note ? `  note: ${s.note}` : '',
                    ]
                      .filter(Boolean)
                      .join('\n'),
                  )
                  .join('\n'),
          );
          return EXIT.ok;
        }
        case 'pause':
          await handle.pause(values.note ?? 'Paused with trackflow schedule pause');
          output(json, { scheduleId: id, paused: true }, () => `Paused schedule ${id}.`);
          return EXIT.ok;
        case 'unpause':
          await handle.unpause(values.note ?? 'Unpaused with trackflow schedule unpause');
          output(json, { scheduleId: id, paused: false }, () => `Unpaused schedule ${id}.`);
          return EXIT.ok;
        case 'trigger':
          await handle.trigger(OVERLAP[overlapOf(values.overlap)]);
          output(json, { scheduleId: id, triggered: true }, () => `Triggered schedule ${id}; follow it with: trackflow schedule list`);
          return EXIT.ok;
        case 'backfill': {
          await handle.backfill({ start: from as Date, end: to as Date, overlap: OVERLAP[overlapOf(values.overlap)] });
          const d = viewOf({ ...(await handle.describe()), scheduleId: id });
          output(json, { scheduleId: id, backfill: { from, to }, recentRuns: d.recentRuns }, () => `Backfill of ${id} from ${from?.toISOString()} to ${to?.toISOString()} requested.`);
          return EXIT.ok;
        }
        default:
          throw new UsageError(`unknown sub-command "${sub}"`);
      }
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) {
        process.stderr.write(`trackflow schedule: schedule ${id} already exists (use trackflow schedule update)\n`);
        return EXIT.failed;
      }
      if (err instanceof ScheduleNotFoundError) {
        process.stderr.write(`trackflow schedule: no schedule ${id} (create it with trackflow schedule create)\n`);
        return EXIT.failed;
      }
      throw err;
    }
  });
}

// Sub-commands have their own help texts, so this command answers --help itself.
export const command: Command = { name: 'schedule', summary: 'Create and manage the daily ingest and verify schedules', help: HELP, handlesHelp: true, run };
