import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { REPO_ROOT } from '../../lib/config';
import { BAD_KINDS, BAD_KIND_REASON, writeDataset } from '../../lib/domain/generator';
import { isolatedEnv, openTestStack, randomSuffix } from '../support/env';
import type { TestStack } from '../support/env';

const run = promisify(execFile);

let stack: TestStack;
let tmp: string;
before(async () => {
  stack = await openTestStack('opfail');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-opfail-'));
});
after(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function trackflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return trackflowWith({}, ...args);
}

async function trackflowWith(extraEnv: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(REPO_ROOT, 'bin', 'trackflow'), ...args], {
      env: { ...isolatedEnv(stack.config), ...extraEnv },
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('quarantine list and show match the malformed rows the generator injected', { timeout: 180_000 }, async () => {
  const gen = await writeDataset(path.join(tmp, 'bad'), { events: 2000, seed: 9, badRate: 0.02 });
  const res = await createActivities(stack.deps).ingestFile({ path: gen.trackingFile });
  assert.equal(res.rejected, 40);
  const expected = BAD_KINDS.flatMap((k) => gen.manifest.badByKind[k].map((line) => [line, BAD_KIND_REASON[k]] as const)).sort((a, b) => a[0] - b[0]);

  const listed = await trackflow('quarantine', 'list', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as Array<{ batch: string; stage: string; line: number; kind: string; file: string; raw: string }>;
  assert.deepEqual(rows.map((r) => [r.line, r.kind]).sort((a, b) => Number(a[0]) - Number(b[0])), expected);
  assert.ok(rows.every((r) => r.batch === res.ingestBatch && r.stage === 'ingest' && r.file === 'tracking.csv'));

  const byReason = await trackflow('quarantine', 'list', '--batch', res.ingestBatch, '--stage', 'ingest', '--reason', 'column_count', '--csv');
  assert.equal(byReason.code, 0, byReason.stderr);
  const csvLines = byReason.stdout.trim().split('\n');
  assert.equal(csvLines[0], 'batch,stage,line,file,kind,reason,raw,quarantinedAt');
  assert.equal(csvLines.length - 1, gen.manifest.badByKind.column_count.length);

  const line = gen.manifest.badByKind.non_numeric_bid[0]!;
  const shown = await trackflow('quarantine', 'show', '--batch', res.ingestBatch, '--line', String(line), '--json');
  assert.equal(shown.code, 0, shown.stderr);
  const fileLine = fs.readFileSync(gen.trackingFile, 'utf8').split('\n')[line - 1];
  assert.equal((JSON.parse(shown.stdout) as { raw: string }).raw, fileLine);

  const missing = await trackflow('quarantine', 'show', '--batch', res.ingestBatch, '--line', '999999');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  const bad = await trackflow('quarantine', 'list', '--stage', 'bogus');
  assert.equal(bad.code, 2);
});

test('a failed file fails the run after the others, and a pause-on-failure schedule pauses', { timeout: 240_000 }, async () => {
  const cfg = stack.config;
  const id = randomSuffix();
  const taskQueue = `trackflow-opfail-${id}`;
  const good = await writeDataset(path.join(tmp, 'good'), { events: 300, seed: 3 });
  const missing = path.join(tmp, 'good', 'gone.csv');
  const connection = await Connection.connect({ address: cfg.temporal.address });
  const client = new Client({ connection, namespace: cfg.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: cfg.temporal.address });
  const scheduleId = `trackflow-opfail-${id}`;
  const schedule = await client.schedule.create({
    scheduleId,
    // The scheduler checks a run it started at its next wake-up (the next action time), so the test's
    // schedule fires every 15 s; with the daily cron that is the next 02:00.
    spec: { intervals: [{ every: '15s' }] },
    action: { type: 'startWorkflow', workflowType: 'ingestAndPublish', taskQueue, workflowId: `opfail-scheduled-${id}`, args: [{ paths: [missing, good.trackingFile] }] },
    policies: { pauseOnFailure: true, overlap: 'SKIP' },
  });
  try {
    const { consumeLease: _stream, ...activities } = createActivities(stack.deps);
    const worker = await Worker.create({ connection: workerConnection, namespace: cfg.temporal.namespace, taskQueue, workflowsPath: require.resolve('../../workflows'), activities });
    await worker.runUntil(async () => {
      await schedule.trigger();
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && !workflowId; i++) {
        workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(workflowId, 'the schedule started a run');
      const err = await client.workflow.getHandle(workflowId).result().then(
        () => assert.fail('the run must fail'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(err.cause?.message ?? '', /^1 file\(s\) failed, 1 tracking file\(s\) ingested, \d+ events published: .*gone\.csv: FileNotFound/);
      const described = await client.workflow.getHandle(workflowId).describe();
      assert.equal(described.status.name, 'FAILED');
      let paused = false;
      for (let i = 0; i < 250 && !paused; i++) {
        paused = (await schedule.describe()).state.paused;
        if (!paused) await new Promise((r) => setTimeout(r, 200));
      }
      const d = await schedule.describe();
      assert.ok(paused, `pause-on-failure paused the schedule: ${JSON.stringify({ state: d.state, info: d.info, policies: d.policies })}`);
      assert.match(d.state.note ?? '', /paused due to workflow failure: .*1 file\(s\) failed/);

      // The same through the CLI: the summary of each file, the failure, exit 1.
      const empty = path.join(tmp, 'good', 'empty.csv');
      fs.writeFileSync(empty, '');
      const other = await writeDataset(path.join(tmp, 'other'), { events: 50, seed: 4 });
      const cli = await trackflowWith({ TRACKFLOW_TASK_QUEUE_PIPELINE: taskQueue }, 'ingest', empty, other.trackingFile, '--wait');
      assert.equal(cli.code, 1, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /empty\.csv\s+failed\s+InvalidHeader: .*empty file/);
      assert.match(cli.stdout, /other\/tracking\.csv\s+ingested\s+batch \S+, rows 50, written 50/);
      assert.match(cli.stdout, /failed: 1 file\(s\) failed, 1 tracking file\(s\) ingested/);
      assert.doesNotMatch(cli.stderr, /^\s+at /m);
    });

    const reconciled = await trackflow('reconcile');
    // The missing file never got a batch; the empty one did, and it failed.
    assert.match(reconciled.stdout, /batches failed\s+1\n/);
    assert.match(reconciled.stdout, /note: batch \S+ \(empty\.csv\) FAILED to ingest at \d{4}-/);
    assert.doesNotMatch(reconciled.stdout, /still ingesting: not counted/);
  } finally {
    await schedule.delete().catch(() => undefined);
    await connection.close();
    await workerConnection.close();
  }
});
