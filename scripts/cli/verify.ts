import crypto from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import { EXIT, UsageError, act, intRange, output } from './command';
import { config } from '../../lib/config';
import { createProgress, pollInterval } from './progress';
import { HourFormatError, hoursBetween, parseHour } from '../../lib/domain/hours';
import { formatVerdict } from '../../lib/verify/judge';
import type { HourRangeInput, VerifyProgress, VerifyWarehouseInput, VerifyWarehouseResult } from '../../workflows';

const DETAILS = `
Recomputes the warehouse rows of each hour from the lake (one events_by_hour partition per hour, with the
stream's own transform) and compares them with the events table, column by column. Runs as the
verifyWarehouse workflow on the pipeline worker; progress shows here and in the Web UI.

Each hour is reported as verified, differs (with the missing, extra and differing rows and both values), or
not settled (N events in flight: not yet published, or published and not yet consumed). Dead-lettered and
publish-quarantined events are accounted for, never reported as differences.
HOUR is an ISO 8601 time (2022-07-08T09, or any timestamp, floored to its UTC hour); both hours are
included. Without a range: the last 48 hours.

Exit status: 0 no difference, 1 a difference, 2 bad usage, 3 Temporal unreachable.`;

export interface RangeOptions {
  from?: string;
  to?: string;
  all?: boolean;
  reindex?: boolean;
  chunkHours?: number;
  json?: boolean;
}

/** The range options verify and rebuild share. */
export function addRangeOptions(cmd: Command): Command {
  return cmd
    .option('--from <hour>', 'first hour (ISO 8601, floored to the UTC hour)')
    .option('--to <hour>', 'last hour, included')
    .option('--all', "every hour the lake's hour index lists")
    .option('--reindex', 'with --all: first fill the hour index from the lake (once, for a lake ingested before the index existed)')
    .option('--chunk-hours <n>', 'hours per activity (default 24); each chunk resumes after a worker dies', intRange(1, 1000))
    .option('--json', 'print the result as JSON');
}

/** The range flags as workflow input; a bad hour or a half range is a usage error here, not a failed run. */
export function rangeInput(values: RangeOptions): HourRangeInput {
  const input: HourRangeInput = {};
  if (values.all && (values.from || values.to)) throw new UsageError('give --from/--to or --all, not both');
  if (values.reindex && !values.all) throw new UsageError('--reindex goes with --all');
  if (values.from !== undefined || values.to !== undefined) {
    if (!values.from || !values.to) throw new UsageError('--from and --to go together');
    try {
      input.from = parseHour(values.from);
      input.to = parseHour(values.to);
      hoursBetween(input.from, input.to);
    } catch (err) {
      if (err instanceof HourFormatError) throw new UsageError(err.message);
      throw err;
    }
  }
  if (values.all) input.all = true;
  if (values.reindex) input.reindex = true;
  if (values.chunkHours !== undefined) input.chunkHours = values.chunkHours;
  return input;
}

/** A workflow id naming the range, unique per run (verify and rebuild may run many times over one range). */
export function runWorkflowId(kind: 'verify' | 'rebuild', input: HourRangeInput): string {
  const range = input.all ? 'all' : input.from ? `${input.from}-${input.to}` : 'last';
  return `${kind}-${range}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Follows a run's progress query on stderr until its result. */
export async function followRun<P, R>(handle: WorkflowHandle, query: QueryDefinition<P>, line: (p: P) => string, quiet: boolean): Promise<R> {
  const progress = createProgress({ quiet });
  let done = false;
  const poll = async () => {
    while (!done) {
      try {
        progress.update(line(await handle.query(query)));
      } catch {
        // Not picked up by a worker yet, or just finished.
      }
      await new Promise((r) => setTimeout(r, pollInterval(quiet)));
    }
  };
  const poller = poll();
  try {
    return (await handle.result()) as R;
  } finally {
    done = true;
    await poller;
    progress.end();
  }
}

function progressLine(p: VerifyProgress): string {
  if (p.phase === 'listing') return 'listing the lake hours...';
  return `verify ${p.doneHours}/${p.hours} hours: ${p.verified} verified, ${p.differs} differ, ${p.notSettled} not settled`;
}

export function renderVerify(r: VerifyWarehouseResult): string {
  const lines = r.unverified.map(formatVerdict);
  if (r.differs + r.notSettled > r.unverified.length) lines.push(`(${r.differs + r.notSettled - r.unverified.length} more hours not shown)`);
  const range = r.from ? `${r.from} to ${r.to}` : 'no hours';
  lines.push(
    `${r.hours} hours (${range}): ${r.verified} verified, ${r.differs} differ (${r.differences} rows), ${r.notSettled} not settled (${r.inFlightEvents} events in flight).` +
      (r.lastVerifiedHour ? ` Last verified hour: ${r.lastVerifiedHour}.` : ''),
  );
  if (r.differs) lines.push(`Repair with: trackflow rebuild --from ${r.unverified.find((v) => v.status === 'differs')?.hour ?? r.from} --to ${r.to}`);
  return lines.join('\n');
}

/** A failed run: its cause as the result, then the failure for the exit code. */
export function reportFailedRun(json: boolean, workflowId: string, err: Error & { cause?: Error }): never {
  const cause = err.cause?.message ?? err.message;
  if (json) output(true, { workflowId, failed: true, error: cause }, () => '');
  throw err;
}

async function verify(opts: RangeOptions): Promise<number> {
  const input: VerifyWarehouseInput = rangeInput(opts);
  const json = opts.json ?? false;
  const workflowId = runWorkflowId('verify', input);
  const { uiLink, withTemporal } = await import('../../client/cli');
  const { verifyWarehouse, verifyProgressQuery } = await import('../../workflows');
  const { WorkflowFailedError } = await import('@temporalio/client');
  return withTemporal(async (client) => {
    const handle = await client.workflow.start(verifyWarehouse, {
      taskQueue: config().temporal.taskQueues.pipeline,
      workflowId,
      args: [input],
      memo: { trigger: 'cli' },
    });
    if (!json) process.stderr.write(`Started ${workflowId} (${uiLink(workflowId)})\n`);
    let result: VerifyWarehouseResult;
    try {
      result = await followRun<VerifyProgress, VerifyWarehouseResult>(handle, verifyProgressQuery, progressLine, json);
    } catch (err) {
      if (err instanceof WorkflowFailedError) reportFailedRun(json, workflowId, err);
      throw err;
    }
    output(json, { workflowId, ...result }, () => renderVerify(result));
    return result.differs ? EXIT.failed : EXIT.ok;
  });
}

export function defineVerify(program: Command): void {
  addRangeOptions(program.command('verify').description('Recompute warehouse hours from the lake and compare them with events (exit 1 on a difference)'))
    .addHelpText('after', DETAILS)
    .action(act(verify));
}
