import fs from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { EXIT, UsageError, act, output } from './command';
import { config } from '../../lib/config';
import { ingestWorkflowId } from '../../client/ids';
import { createProgress, pollInterval } from './progress';
import type { FileResult, IngestAndPublishInput, IngestAndPublishResult, ingestAndPublish } from '../../workflows';
import { FAILED_FILES_ERROR } from '../../workflows/options';
import { estimateRows, fileDoneLine, nextRate, progressLine, type FileHeartbeat, type FileRate } from './ingestProgress';

const DETAILS = `
Starts the ingestAndPublish workflow: each file is loaded into the Cassandra lake (retried with
backoff; a bad file is reported and the others go on), then pending events are published to Kafka.
A run with a failed file ends failed once the others are done, with a summary of each file.
The pipeline worker (npm run worker:pipeline) does the work.

With --landing DIR, job exports are loaded into the job dimension first, tracking exports already ingested
are skipped, and any other file is listed as "skipped: not a tracking or job export". --wait follows the
run: rows read, rows/s, ETA and each file's batch id.

Submitting the same unchanged files while their run is still going attaches to that run.
Exit status: 0 ok, 1 a file or the run failed, 2 bad usage (also: no such file), 3 Temporal unreachable.`;

export function renderResult(r: IngestAndPublishResult): string {
  const width = Math.max(4, ...r.files.map((f) => f.path.length), ...(r.jobs ?? []).map((f) => f.path.length));
  const lines = r.files.map((f) => {
    const s = f.summary;
    const detail =
      f.status === 'failed'
        ? f.error
        : s
          ? `batch ${s.ingestBatch}, rows ${s.rowsRead}, written ${s.written}, already present ${s.alreadyPresent}, rejected ${s.rejected}${s.resumedFromLine ? `, resumed at line ${s.resumedFromLine}` : ''}`
          : '';
    return `  ${f.path.padEnd(width)}  ${f.status.padEnd(14)}  ${detail ?? ''}`;
  });
  for (const j of r.jobs ?? []) {
    const detail = j.status === 'failed' ? j.error : `job export: ${j.summary?.upserted ?? 0} upserted, ${j.summary?.rejected ?? 0} rejected`;
    lines.unshift(`  ${j.path.padEnd(width)}  ${j.status.padEnd(14)}  ${detail ?? ''}`);
  }
  for (const i of r.ignored ?? []) lines.push(`  ${i.path.padEnd(width)}  ${'skipped'.padEnd(14)}  ${i.reason}`);
  if (r.skipped.length) lines.push(`  (${r.skipped.length} file(s) skipped: already ingested)`);
  const p = r.publish;
  lines.push(
    p.rounds
      ? `Published ${p.published} events in ${p.batches} batches (${p.quarantined} quarantined, ${p.rounds} rounds).`
      : 'Nothing published (--no-publish).',
  );
  return ['Files:', ...lines].join('\n');
}

/** The ingest activity's last heartbeat (rows read, batch id), from the run's pending activities. */
async function currentHeartbeat(handle: WorkflowHandle): Promise<FileHeartbeat | undefined> {
  const d = await handle.describe();
  const pending = d.raw.pendingActivities?.find((a) => a.activityType?.name === 'ingestFile');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  const { defaultPayloadConverter } = await import('@temporalio/common');
  const v = defaultPayloadConverter.fromPayload<FileHeartbeat>(payload);
  return typeof v?.rowsRead === 'number' ? v : undefined;
}

/**
 * Follows a run: the progress line (rows read, rows/s, ETA, batch id), and one line per finished file with
 * its batch id so the id `reconcile --batch` needs stays in the scrollback.
 */
async function follow(handle: WorkflowHandle<typeof ingestAndPublish>, quiet: boolean): Promise<IngestAndPublishResult> {
  const { ingestProgressQuery } = await import('../../workflows');
  const progress = createProgress({ quiet });
  const tty = process.stderr.isTTY === true && !quiet;
  let printedFiles = 0;
  let rate: FileRate | undefined;
  let done = false;
  const poll = async () => {
    while (!done) {
      try {
        const p = await handle.query(ingestProgressQuery);
        const hb = p.phase === 'ingesting' ? await currentHeartbeat(handle).catch(() => undefined) : undefined;
        if (hb && p.current) rate = nextRate(rate, p.current, hb.rowsRead, Date.now(), estimateRows);
        const finished = [...(p.jobs ?? []).map((j) => ({ ...j, status: j.status === 'loaded' ? 'ingested' : 'failed' }) as FileResult), ...p.files];
        for (const f of finished.slice(printedFiles)) progress.note(fileDoneLine(f));
        printedFiles = finished.length;
        progress.update(progressLine(p, hb, rate, tty));
      } catch {
        // No worker has picked the run up yet, or it just finished: keep waiting for the result.
      }
      await new Promise((r) => setTimeout(r, pollInterval(quiet)));
    }
  };
  const poller = poll();
  try {
    return await handle.result();
  } finally {
    done = true;
    await poller;
    progress.end();
  }
}

/** A run that failed because of its files carries its result in the failure; anything else has only a message. */
function failedRunResult(err: WorkflowFailedError): IngestAndPublishResult | undefined {
  const cause = err.cause as { type?: string | null; details?: unknown[] } | undefined;
  if (cause?.type !== FAILED_FILES_ERROR) return undefined;
  const r = cause.details?.[0] as IngestAndPublishResult | undefined;
  return r && Array.isArray(r.files) ? r : undefined;
}

interface IngestOptions {
  landing?: string;
  publish: boolean;
  wait?: boolean;
  json?: boolean;
}

/** The workflow input; the worker may run elsewhere, so paths are absolute, and typos are caught here. */
function ingestInput(files: string[], opts: IngestOptions): IngestAndPublishInput {
  if (!opts.landing && files.length === 0) throw new UsageError('give files to ingest, or --landing DIR');
  const paths = files.map((p) => path.resolve(p));
  const missing = paths.filter((p) => !fs.existsSync(p));
  if (missing.length) throw new UsageError(`no such file: ${missing.join(', ')}`);
  const landingDir = opts.landing ? path.resolve(opts.landing) : undefined;
  if (landingDir && !fs.statSync(landingDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--landing ${opts.landing} is not a directory`);
  }
  const scale = config().scale;
  return { paths: paths.length ? paths : undefined, landingDir, publish: opts.publish, maxConcurrentFiles: scale.maxConcurrentFiles, maxConcurrentPublishes: scale.maxConcurrentPublishes };
}

/** Starts the run, or attaches to the same files' run still in flight. */
async function startOrAttach(client: Client, input: IngestAndPublishInput, workflowId: string): Promise<{ handle: WorkflowHandle<typeof ingestAndPublish>; attached: boolean }> {
  const { WorkflowExecutionAlreadyStartedError } = await import('@temporalio/client');
  const { ingestAndPublish } = await import('../../workflows');
  try {
    const handle = await client.workflow.start(ingestAndPublish, {
      taskQueue: config().temporal.taskQueues.pipeline,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      memo: { trigger: 'cli', files: (input.paths ?? []).slice(0, 50), fileCount: input.paths?.length ?? 0, landingDir: input.landingDir },
    });
    return { handle, attached: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { handle: client.workflow.getHandle<typeof ingestAndPublish>(workflowId), attached: true };
  }
}

async function ingest(files: string[], opts: IngestOptions, cmd: Command): Promise<number> {
  const input = ingestInput(files, opts);
  const json = opts.json ?? false;
  const workflowId = ingestWorkflowId(input);
  const { uiLink, withTemporal } = await import('../../client/cli');
  const { WorkflowFailedError } = await import('@temporalio/client');
  return withTemporal(async (client) => {
    const { handle, attached } = await startOrAttach(client, input, workflowId);
    if (!opts.wait) {
      output(json, { workflowId, started: !attached, alreadyRunning: attached }, () =>
        `${attached ? 'Already running' : 'Started'} ${workflowId}\n  ${uiLink(workflowId)}\n  follow it with: trackflow ingest ${cmd.args.join(' ')}${opts.landing ? ` --landing ${opts.landing}` : ''} --wait`,
      );
      return EXIT.ok;
    }
    if (!json) process.stderr.write(`${attached ? 'Attached to' : 'Started'} ${workflowId} (${uiLink(workflowId)})\n`);
    let result: IngestAndPublishResult;
    try {
      result = await follow(handle, json);
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const partial = failedRunResult(err);
      const cause = err.cause?.message ?? err.message;
      if (partial) output(json, { workflowId, failed: true, error: cause, ...partial }, () => `${renderResult(partial)}\n${workflowId} failed: ${cause}`);
      else output(json, { workflowId, failed: true, error: cause }, () => `${workflowId} failed: ${cause}`);
      return EXIT.failed;
    }
    const failed = result.files.filter((f) => f.status === 'failed').length;
    output(json, { workflowId, ...result }, () => renderResult(result) + (failed ? `\n${failed} file(s) failed.` : ''));
    return failed ? EXIT.failed : EXIT.ok;
  });
}

export function defineIngest(program: Command): void {
  program
    .command('ingest')
    .description('Ingest tracking exports into the lake and publish them')
    .argument('[paths...]', 'tracking exports (.csv or .csv.gz)')
    .option('--landing <dir>', 'ingest every new export in DIR, recognised by header (job exports first)')
    .option('--no-publish', 'only land the files in Cassandra')
    .option('--wait', "follow progress and print each file's result; exit 1 if any file failed")
    .option('--json', 'machine-readable output')
    .addHelpText('after', DETAILS)
    .action(act(ingest));
}
