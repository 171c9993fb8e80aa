import type { Client, ScheduleHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { config } from '../../lib/config';
import { AlreadyExists, NotFound, UsageError } from '../../lib/domain/errors';
import { EXIT, act, group, oneOf, output } from './command';
import type { OverlapOption, ScheduleView } from '../../client/schedules';
import { DEFAULT_CRON, DEFAULT_SCHEDULE_ID, DEFAULT_VERIFY_CRON, DEFAULT_VERIFY_SCHEDULE_ID } from '../../client/scheduleDefaults';

const DETAILS = `
Manages the Temporal schedules that run ingestAndPublish daily (replacing the Airflow DAG) and, with
--verify, the daily verifyWarehouse of yesterday's UTC hours. Defaults: id ${DEFAULT_SCHEDULE_ID}, cron
"${DEFAULT_CRON}" (UTC); with --verify, id ${DEFAULT_VERIFY_SCHEDULE_ID}, cron "${DEFAULT_VERIFY_CRON}".
Overlap skip, catch-up window 1 day, pause on failure. trackflow schedule <sub-command> --help shows each
sub-command's options.
Exit status: 0 ok, 1 the schedule exists (create) or does not (the others), 2 bad usage, 3 Temporal unreachable.`;

interface ScheduleOptions {
  id?: string;
  verify?: boolean;
  cron?: string;
  overlap: OverlapOption;
  landing?: string;
  paused?: boolean;
  note?: string;
  from?: Date;
  to?: Date;
  json?: boolean;
}

function isoTime(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('must be an ISO-8601 time');
  return d;
}

function idOf(opts: ScheduleOptions): string {
  return opts.id ?? (opts.verify ? DEFAULT_VERIFY_SCHEDULE_ID : DEFAULT_SCHEDULE_ID);
}

function definition(opts: ScheduleOptions) {
  if (opts.verify && opts.landing) throw new UsageError('--landing is for the ingest schedule, not --verify');
  return {
    scheduleId: idOf(opts),
    cron: opts.cron,
    overlap: opts.overlap,
    landingDir: opts.landing ?? config().landingDir,
    taskQueue: config().temporal.taskQueues.pipeline,
    paused: opts.paused,
    note: opts.note,
  };
}

/** Runs `fn` with a connected client; Temporal's schedule errors become the taxonomy's (exit 1). */
async function withSchedules(opts: ScheduleOptions, fn: (client: Client, handle: ScheduleHandle) => Promise<number>): Promise<number> {
  const { withTemporal } = await import('../../client/cli');
  const { ScheduleAlreadyRunning, ScheduleNotFoundError } = await import('@temporalio/client');
  const id = idOf(opts);
  return withTemporal(async (client) => {
    try {
      return await fn(client, client.schedule.getHandle(id));
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new AlreadyExists(`schedule ${id} already exists (use trackflow schedule update)`);
      if (err instanceof ScheduleNotFoundError) throw new NotFound(`no schedule ${id} (create it with trackflow schedule create)`);
      throw err;
    }
  });
}

async function create(opts: ScheduleOptions): Promise<number> {
  const def = definition(opts);
  const s = await import('../../client/schedules');
  return withSchedules(opts, async (client) => {
    if (opts.verify) {
      await s.createVerifySchedule(client, def);
      output(Boolean(opts.json), { scheduleId: def.scheduleId, created: true }, () => `Created schedule ${def.scheduleId}: verifyWarehouse of yesterday's hours at "${opts.cron ?? DEFAULT_VERIFY_CRON}" UTC, failing (and pausing) on a difference.`);
      return EXIT.ok;
    }
    await s.createSchedule(client, def);
    output(Boolean(opts.json), { scheduleId: def.scheduleId, created: true }, () => `Created schedule ${def.scheduleId}: ingestAndPublish of ${def.landingDir} at "${def.cron ?? DEFAULT_CRON}" UTC, overlap ${def.overlap}.`);
    return EXIT.ok;
  });
}

async function update(opts: ScheduleOptions): Promise<number> {
  const def = definition(opts);
  const s = await import('../../client/schedules');
  return withSchedules(opts, async (client) => {
    await (opts.verify ? s.updateVerifySchedule : s.updateSchedule)(client, def);
    output(Boolean(opts.json), { scheduleId: def.scheduleId, updated: true }, () => `Updated schedule ${def.scheduleId}.`);
    return EXIT.ok;
  });
}

function renderList(all: ScheduleView[]): string {
  if (all.length === 0) return 'No schedules. Create the daily ingest with: trackflow schedule create';
  return all
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
    .join('\n');
}

async function list(opts: ScheduleOptions): Promise<number> {
  const { listSchedules } = await import('../../client/schedules');
  return withSchedules(opts, async (client) => {
    const all = await listSchedules(client);
    output(Boolean(opts.json), all, () => renderList(all));
    return EXIT.ok;
  });
}

/** delete, pause, unpause, trigger and backfill: one call on the schedule's handle, then one line. */
function onHandle(verb: string, call: (handle: ScheduleHandle, opts: ScheduleOptions) => Promise<unknown>, say: (id: string, opts: ScheduleOptions) => string) {
  return async (opts: ScheduleOptions): Promise<number> => {
    if (opts.from && opts.to && opts.from >= opts.to) throw new UsageError('--from must be before --to');
    return withSchedules(opts, async (_client, handle) => {
      await call(handle, opts);
      output(Boolean(opts.json), { scheduleId: handle.scheduleId, [verb]: true }, () => say(handle.scheduleId, opts));
      return EXIT.ok;
    });
  };
}

const idOption = () => new Option('--id <id>', `schedule id (default ${DEFAULT_SCHEDULE_ID}, with --verify ${DEFAULT_VERIFY_SCHEDULE_ID})`);
const overlapOption = () => new Option('--overlap <policy>', 'what to do when a run is still going: skip or buffer-one').argParser(oneOf<OverlapOption>('skip', 'buffer-one')).default('skip');

/** The options a schedule's definition takes: create and update. */
function definitionOptions(cmd: Command, withPaused: boolean): Command {
  cmd
    .option('--verify', 'the daily verify instead of the daily ingest')
    .addOption(idOption())
    .option('--cron <expr>', 'cron expression, UTC')
    .addOption(overlapOption())
    .option('--landing <dir>', 'landing directory of the ingest schedule (default TRACKFLOW_LANDING_DIR)')
    .option('--json', 'print JSON');
  if (withPaused) cmd.option('--paused', 'create it paused').option('--note <text>', 'note shown in the Web UI');
  return cmd;
}

function handleOptions(cmd: Command): Command {
  return cmd.option('--verify', 'default to the daily verify schedule id').addOption(idOption()).option('--json', 'print JSON');
}

export function defineSchedule(program: Command): void {
  const schedule = group(program, 'schedule', 'Create and manage the daily ingest and verify schedules').addHelpText('after', DETAILS);
  definitionOptions(schedule.command('create').description('create the daily ingest schedule (or, with --verify, the daily verify); exit 1 if it exists'), true).action(act(create));
  definitionOptions(schedule.command('update').description("rewrite the schedule's spec, action and policies; the paused state is kept"), false)
    .option('--note <text>', 'note shown in the Web UI')
    .action(act(update));
  schedule.command('list').description('every schedule in the namespace with its cron, paused state, next and recent runs').option('--json', 'print JSON').action(act(list));
  handleOptions(schedule.command('delete').description('delete the schedule (runs it started are not affected)'))
    .action(act(onHandle('deleted', (h) => h.delete(), (id) => `Deleted schedule ${id}.`)));
  handleOptions(schedule.command('pause').description('stop the schedule from starting runs until unpaused'))
    .option('--note <text>', 'note shown in the Web UI')
    .action(act(onHandle('paused', (h, o) => h.pause(o.note ?? 'Paused with trackflow schedule pause'), (id) => `Paused schedule ${id}.`)));
  handleOptions(schedule.command('unpause').description('resume a paused schedule (also after pauseOnFailure paused it)'))
    .option('--note <text>', 'note shown in the Web UI')
    .action(act(onHandle('unpaused', (h, o) => h.unpause(o.note ?? 'Unpaused with trackflow schedule unpause'), (id) => `Unpaused schedule ${id}.`)));
  handleOptions(schedule.command('trigger').description('start a run now (with overlap skip, nothing happens while a run is in progress)'))
    .addOption(overlapOption())
    .action(act(onHandle('triggered', async (h, o) => h.trigger((await import('../../client/schedules')).OVERLAP[o.overlap]), (id) => `Triggered schedule ${id}; follow it with: trackflow schedule list`)));
  handleOptions(schedule.command('backfill').description('take the actions the schedule would have taken between two times'))
    .requiredOption('--from <time>', 'ISO-8601 start', isoTime)
    .requiredOption('--to <time>', 'ISO-8601 end', isoTime)
    .addOption(overlapOption())
    .action(act(onHandle('backfill', async (h, o) => h.backfill({ start: o.from as Date, end: o.to as Date, overlap: (await import('../../client/schedules')).OVERLAP[o.overlap] }), (id, o) => `Backfill of ${id} from ${o.from?.toISOString()} to ${o.to?.toISOString()} requested.`)));
}
