import crypto from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from './command';
import { EXIT, UsageError, output } from './command';
import { config } from '../../lib/config';
import { parseFlags, uiLink, withTemporal } from '../../client/cli';
import { HourFormatError, hoursBetween, parseHour } from '../../lib/verify/hours';
import { formatVerdict } from '../../lib/verify/judge';
import type { HourRangeInput, VerifyProgress, VerifyWarehouseInput, VerifyWarehouseResult } from '../../workflows';

const HELP = `Usage: trackflow verify [--from HOUR --to HOUR | --all [--reindex]] [--chunk-hours N] [--json]

Recomputes the warehouse rows of each hour from the lake (one events_by_hour partition per hour, with the
stream's own transform) and compares them with the events table, column by column. Runs as the
verifyWarehouse workflow on the pipeline worker; progress shows here and in the Web UI.

Each hour is reported as verified, differs (with the missing, extra and differing rows and both values), or
not settled (N events in flight: not yet published, or published and not yet consumed). Dead-lettered and
publish-quarantined events are accounted for, never reported as differences.

  --from HOUR, --to HOUR  ISO 8601 times (2022-07-08T09, or any timestamp, floored to its UTC hour);
                          both hours included. Default: the last 48 hours.
  --all                   every hour the lake's hour index lists
  --reindex               with --all: first fill the hour index from the lake (once, for a lake ingested
                          before the index existed)
  --chunk-hours N         hours per activity (default 24); each chunk resumes after a worker dies
  --json                  print the result as JSON

Exit status: 0 no difference, 1 a difference, 2 bad usage, 3 Temporal unreachable.`;

export const RANGE_FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  all: { type: 'boolean' },
  reindex: { type: 'boolean' },
  'chunk-hours': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The range flags as workflow input; a bad hour or a half range is a usage error here, not a failed run. */
export function rangeInput(values: { from?: string; to?: string; all?: boolean; reindex?: boolean; 'chunk-hours'?: string }): HourRangeInput {
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
  if (values['chunk-hours'] !== undefined) {
    const n = Number(values['chunk-hours']);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--chunk-hours must be an integer from 1 to 1000, got "${values['chunk-hours']}"`);
    input.chunkHours = n;
  }
  return input;
}

/** A workflow id naming the range, unique per run (verify and rebuild may run many times over one range). */
export function runWorkflowId(kind: 'verify' | 'rebuild', input: HourRangeInput): string {
  const range = input.all ? 'all' : input.from ? `${input.from}-${input.to}` : 'last';
  return `${kind}-${range}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Follows a run's `progress` query on stderr (one updating line on a terminal, a line every 5 s otherwise). */
export async function followRun<P, R>(handle: WorkflowHandle, line: (p: P) => string, quiet: boolean): Promise<R> {
  const tty = process.stderr.isTTY && !quiet;
  let done = false;
  let last = '';
  const poll = async () => {
    while (!done) {
      try {
        const text = line(await handle.query<P>('progress'));
        if (tty) process.stderr.write(`\r\x1b[K${text}`);
        else if (!quiet && text !== last) process.stderr.write(`${new Date().toISOString()} ${text}\n`);
        last = text;
      } catch {
        // Not picked up by a worker yet, or just finished.
      }
      await new Promise((r) => setTimeout(r, tty ? 1000 : 5000));
    }
  };
  const poller = poll();
  try {
    return (await handle.result()) as R;
  } finally {
    done = true;
    await poller;
    if (tty) process.stderr.write('\r\x1b[K');
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

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, RANGE_FLAGS);
  const input: VerifyWarehouseInput = rangeInput(values);
  const json = values.json ?? false;
  const workflowId = runWorkflowId('verify', input);
  return withTemporal(async (client) => {
    const handle = await client.workflow.start('verifyWarehouse', {
      taskQueue: config().temporal.taskQueues.pipeline,
      workflowId,
      args: [input],
      memo: { trigger: 'cli' },
    });
    if (!json) process.stderr.write(`Started ${workflowId} (${uiLink(workflowId)})\n`);
    let result: VerifyWarehouseResult;
    try {
      result = await followRun<VerifyProgress, VerifyWarehouseResult>(handle, progressLine, json);
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause?.message ?? err.message;
      output(json, { workflowId, failed: true, error: cause }, () => `${workflowId} failed: ${cause}`);
      return EXIT.failed;
    }
    output(json, { workflowId, ...result }, () => renderVerify(result));
    return result.differs ? EXIT.failed : EXIT.ok;
  });
}

export const command: Command = {
  name: 'verify',
  summary: 'Recompute warehouse hours from the lake and compare them with events (exit 1 on a difference)',
  help: HELP,
  run,
};
