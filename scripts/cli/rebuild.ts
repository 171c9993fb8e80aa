import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from './command';
import { EXIT, UsageError, output } from './command';
import { config } from '../../lib/config';
import { parseFlags, uiLink, withTemporal } from '../../client/cli';
import { formatDifferences } from '../../lib/verify/judge';
import type { RebuildHourResult, RebuildProgress, RebuildWarehouseInput, RebuildWarehouseResult } from '../../workflows';
import { RANGE_FLAGS, followRun, rangeInput, runWorkflowId } from './verify';

const HELP = `Usage: trackflow rebuild --from HOUR --to HOUR [--dry-run] [--chunk-hours N] [--json]
       trackflow rebuild --all [--reindex] [--dry-run] [--chunk-hours N] [--json]

Replaces the warehouse rows of each hour with the rows recomputed from the lake, exactly, one MySQL
transaction per hour, while the stream keeps running: afterwards the stream counts no event twice
(docs/verify.md, docs/stream.md). Events still in flight (not yet published or consumed) are left to the
stream. Runs as the rebuildWarehouse workflow on the pipeline worker, resumable after a worker dies.

  --from HOUR, --to HOUR  ISO 8601 times, floored to the UTC hour; both hours included
  --all                   every hour the lake's hour index lists (--reindex fills the index first)
  --dry-run               print what would change (the differing rows, both values); write nothing
  --chunk-hours N         hours per activity (default 24)
  --json                  print the result as JSON

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

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { ...RANGE_FLAGS, 'dry-run': { type: 'boolean' } });
  const input: RebuildWarehouseInput = { ...rangeInput(values), dryRun: values['dry-run'] === true };
  if (!input.all && !input.from) throw new UsageError('give --from and --to, or --all');
  const json = values.json ?? false;
  const workflowId = runWorkflowId('rebuild', input);
  return withTemporal(async (client) => {
    const handle = await client.workflow.start('rebuildWarehouse', {
      taskQueue: config().temporal.taskQueues.pipeline,
      workflowId,
      args: [input],
      memo: { trigger: 'cli', dryRun: input.dryRun },
    });
    if (!json) process.stderr.write(`Started ${workflowId} (${uiLink(workflowId)})\n`);
    let result: RebuildWarehouseResult;
    try {
      result = await followRun<RebuildProgress, RebuildWarehouseResult>(handle, progressLine, json);
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const cause = err.cause?.message ?? err.message;
      output(json, { workflowId, failed: true, error: cause }, () => `${workflowId} failed: ${cause}`);
      return EXIT.failed;
    }
    output(json, { workflowId, ...result }, () => renderRebuild(result));
    return EXIT.ok;
  });
}

export const command: Command = {
  name: 'rebuild',
  summary: 'Replace warehouse hours with the rows recomputed from the lake, while the stream runs',
  help: HELP,
  run,
};
