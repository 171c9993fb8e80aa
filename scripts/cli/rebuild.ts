import type { Command } from 'commander';
import { EXIT, UsageError, act, output } from './command';
import { config } from '../../lib/config';
import { formatDifferences } from '../../lib/verify/judge';
import type { RebuildHourResult, RebuildProgress, RebuildWarehouseInput, RebuildWarehouseResult } from '../../workflows';
import { addRangeOptions, followRun, rangeInput, reportFailedRun, runWorkflowId, type RangeOptions } from './verify';

const DETAILS = `
Replaces the warehouse rows of each hour with the rows recomputed from the lake, exactly, one MySQL
transaction per hour, while the stream keeps running: afterwards the stream counts no event twice
(docs/verify.md, docs/stream.md). Events still in flight (not yet published or consumed) are left to the
stream. Runs as the rebuildWarehouse workflow on the pipeline worker, resumable after a worker dies.

HOUR is an ISO 8601 time, floored to the UTC hour; both hours are included. --dry-run prints what would
change (the differing rows, both values) and writes nothing.

Exit status: 0 done, 1 the run failed, 2 bad usage, 3 Temporal unreachable.`;

function progressLine(p: RebuildProgress): string {
  if (p.phase === 'listing') return 'listing the lake hours...';
  return `${p.dryRun ? 'dry run ' : ''}rebuild ${p.doneHours}/${p.hours} hours: ${p.changedHours} changed`;
}

function hourLine(h: RebuildHourResult): string {
  const verb = h.dryRun ? 'would replace' : 'replaced';
  return [
    `${h.hour}  ${verb} ${h.rowsBefore} rows with ${h.rowsAfter} (${h.differenceCount} differed), ${h.ledgerAdded} ids added to the ledger, ${h.inFlight} events left to the stream`,
    ...formatDifferences(h.differences, h.differenceCount),
  ].join('\n');
}

export function renderRebuild(r: RebuildWarehouseResult): string {
  const lines = r.changed.map(hourLine);
  const range = r.from ? `${r.from} to ${r.to}` : 'no hours';
  lines.push(
    `${r.dryRun ? 'Dry run: ' : ''}${r.hours} hours (${range}): ${r.changedHours} ${r.dryRun ? 'would change' : 'changed'} (${r.differences} rows), ` +
      `${r.hours - r.changedHours} already exact; ${r.counted} events counted, ${r.inFlight} left to the stream.`,
  );
  return lines.join('\n');
}

async function rebuild(opts: RangeOptions & { dryRun?: boolean }): Promise<number> {
  const input: RebuildWarehouseInput = { ...rangeInput(opts), dryRun: opts.dryRun === true };
  if (!input.all && !input.from) throw new UsageError('give --from and --to, or --all');
  const json = opts.json ?? false;
  const workflowId = runWorkflowId('rebuild', input);
  const { uiLink, withTemporal } = await import('../../client/cli');
  const { rebuildWarehouse, rebuildProgressQuery } = await import('../../workflows');
  const { WorkflowFailedError } = await import('@temporalio/client');
  return withTemporal(async (client) => {
    const handle = await client.workflow.start(rebuildWarehouse, {
      taskQueue: config().temporal.taskQueues.pipeline,
      workflowId,
      args: [input],
      memo: { trigger: 'cli', dryRun: input.dryRun },
    });
    if (!json) process.stderr.write(`Started ${workflowId} (${uiLink(workflowId)})\n`);
    let result: RebuildWarehouseResult;
    try {
      result = await followRun<RebuildProgress, RebuildWarehouseResult>(handle, rebuildProgressQuery, progressLine, json);
    } catch (err) {
      if (err instanceof WorkflowFailedError) reportFailedRun(json, workflowId, err);
      throw err;
    }
    output(json, { workflowId, ...result }, () => renderRebuild(result));
    return EXIT.ok;
  });
}

export function defineRebuild(program: Command): void {
  addRangeOptions(program.command('rebuild').description('Replace warehouse hours with the rows recomputed from the lake, while the stream runs'))
    .option('--dry-run', 'print what would change; write nothing')
    .addHelpText('after', DETAILS)
    .action(act(rebuild));
}
