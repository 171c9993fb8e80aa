import fs from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { Command } from './command';
import { EXIT, UsageError, output } from './command';
import { config } from '../../lib/config';
import { parseFlags, uiLink, withTemporal } from '../../client/cli';
import { ingestWorkflowId } from '../../client/ids';
import type { FileResult, IngestAndPublishInput, IngestAndPublishResult, IngestProgress, ingestAndPublish } from '../../workflows';
import { FAILED_FILES_ERROR } from '../../workflows/options';
import { estimateRows, fileDoneLine, nextRate, progressLine, type FileHeartbeat, type FileRate } from './ingestProgress';

const HELP = `Usage: trackflow ingest <paths...> [--no-publish] [--wait] [--json]
       trackflow ingest --landing DIR [--no-publish] [--wait] [--json]

Starts the ingestAndPublish workflow: each file is loaded into the Cassandra lake (retried with
backoff; a bad file is reported and the others go on), then pending events are published to Kafka.
A run with a failed file ends failed once the others are done, with a summary of each file.
The pipeline worker (npm run worker:pipeline) does the work.

  --landing DIR   Ingest every new export in DIR, recognised by header: job exports are loaded into
                  the job dimension first, tracking exports already ingested are skipped, and any
                  other file is listed as "skipped: not a tracking or job export".
  --no-publish    Only land the files in Cassandra.
  --wait          Follow progress (rows read, rows/s, ETA, each file's batch id) and print the
                  per-file result; exit 1 if any file failed.
  --json          Machine-readable output.

Submitting the same unchanged files while their run is still going attaches to that run.`;

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
  const v = defaultPayloadConverter.fromPayload<FileHeartbeat>(payload);
  return typeof v?.rowsRead === 'number' ? v : undefined;
}

/**
 * Follows a run: a progress bar rewritten in place on a TTY, timestamped lines otherwise (only when something
 * changed, or once a minute), and one line per finished file with its batch id.
 */
async function follow(handle: WorkflowHandle<typeof ingestAndPublish>, quiet: boolean): Promise<IngestAndPublishResult> {
  const tty = process.stderr.isTTY && !quiet;
  let last = '';
  let lastPrinted = 0;
  let printedFiles = 0;
  let rate: FileRate | undefined;
  let done = false;
  const poll = async () => {
    while (!done) {
      try {
        const p = await handle.query<IngestProgress>('progress');
        const hb = p.phase === 'ingesting' ? await currentHeartbeat(handle).catch(() => undefined) : undefined;
        if (hb && p.current) rate = nextRate(rate, p.current, hb.rowsRead, Date.now(), estimateRows);
        const finished = [...(p.jobs ?? []).map((j) => ({ ...j, status: j.status === 'loaded' ? 'ingested' : 'failed' }) as FileResult), ...p.files];
        const line = progressLine(p, hb, rate, tty);
        if (tty) process.stderr.write('\r\x1b[K');
        if (!quiet) for (const f of finished.slice(printedFiles)) process.stderr.write(`${tty ? '' : `${new Date().toISOString()} `}${fileDoneLine(f)}\n`);
        printedFiles = finished.length;
        if (tty) process.stderr.write(line);
        else if (!quiet && (line !== last || Date.now() - lastPrinted > 60_000)) {
          process.stderr.write(`${new Date().toISOString()} ${line}\n`);
          lastPrinted = Date.now();
        }
        last = line;
      } catch {
        // No worker has picked the run up yet, or it just finished: keep waiting for the result.
      }
      await new Promise((r) => setTimeout(r, tty ? 1000 : 5000));
    }
  };
  const poller = poll();
  try {
    return await handle.result();
  } finally {
    done = true;
    await poller;
    if (tty) process.stderr.write('\r\x1b[K');
  }
}

/** A run that failed because of its files carries its result in the failure; anything else has only a message. */
function failedRunResult(err: WorkflowFailedError): IngestAndPublishResult | undefined {
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FAILED_FILES_ERROR) return undefined;
  const r = cause.details?.[0] as IngestAndPublishResult | undefined;
  return r && Array.isArray(r.files) ? r : undefined;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { landing: { type: 'string' }, 'no-publish': { type: 'boolean' }, wait: { type: 'boolean' }, json: { type: 'boolean' } },
    true,
  );
  if (!values.landing && positionals.length === 0) throw new UsageError('give files to ingest, or --landing DIR');
  // The worker may run elsewhere: pass absolute paths, and catch typos here rather than as a failed run.
  const paths = positionals.map((p) => path.resolve(p));
  const missing = paths.filter((p) => !fs.existsSync(p));
  if (missing.length) throw new UsageError(`no such file: ${missing.join(', ')}`);
  const landingDir = values.landing ? path.resolve(values.landing) : undefined;
  if (landingDir && !fs.statSync(landingDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--landing ${values.landing} is not a directory`);
  }
  const json = values.json ?? false;
  const input: IngestAndPublishInput = {
    paths: paths.length ? paths : undefined, landingDir, publish: !values['no-publish'], maxConcurrentFiles: config().scale.maxConcurrentFiles,
    maxConcurrentPublishes: config().scale.maxConcurrentPublishes,
  };
  const workflowId = ingestWorkflowId(input);

  return withTemporal(async (client) => {
    let handle: WorkflowHandle<typeof ingestAndPublish>;
    let attached = false;
    try {
      handle = await client.workflow.start<typeof ingestAndPublish>('ingestAndPublish', {
        taskQueue: config().temporal.taskQueues.pipeline,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
        memo: { trigger: 'cli', files: paths.slice(0, 50), fileCount: paths.length, landingDir },
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = client.workflow.getHandle<typeof ingestAndPublish>(workflowId);
      attached = true;
    }
    if (!values.wait) {
      output(json, { workflowId, started: !attached, alreadyRunning: attached }, () =>
        `${attached ? 'Already running' : 'Started'} ${workflowId}\n  ${uiLink(workflowId)}\n  follow it with: trackflow ingest ${argv.join(' ')} --wait`,
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
      if (partial) {
        output(json, { workflowId, failed: true, error: cause, ...partial }, () => `${renderResult(partial)}\n${workflowId} failed: ${cause}`);
      } else output(json, { workflowId, failed: true, error: cause }, () => `${workflowId} failed: ${cause}`);
      return EXIT.failed;
    }
    const failed = result.files.filter((f) => f.status === 'failed').length;
    output(json, { workflowId, ...result }, () => renderResult(result) + (failed ? `\n${failed} file(s) failed.` : ''));
    return failed ? EXIT.failed : EXIT.ok;
  });
}

export const command: Command = { name: 'ingest', summary: 'Ingest tracking exports into the lake and publish them (ingest <paths...> | --landing DIR)', help: HELP, run };
