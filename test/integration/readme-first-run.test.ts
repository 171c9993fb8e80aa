import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { REPO_ROOT } from '../../lib/config';
import { isolatedEnv, openTestStack, randomSuffix } from '../support/env';
import type { TestStack } from '../support/env';

const run = promisify(execFile);

/** The README's first-run block, character for character. */
function readmeFirstRun(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /<!-- first-run:begin -->\s*```bash\n([\s\S]*?)```\s*<!-- first-run:end -->/.exec(readme);
  assert.ok(block?.[1], 'README has the first-run block');
  return block[1];
}

let stack: TestStack;
let tmp: string;
before(async () => {
  stack = await openTestStack('firstrun');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-first-run-'));
});
after(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Runs a shell script in the temp directory as a new user would: `npx trackflow` resolves to the repo's
 * bin/trackflow (npx in a clone does exactly that), against this test's keyspace, topic, database and queue.
 */
async function shell(script: string, taskQueue: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...isolatedEnv(stack.config), TRACKFLOW_TASK_QUEUE_PIPELINE: taskQueue };
  const prelude = `npx() { if [ "$1" = trackflow ]; then shift; node ${JSON.stringify(path.join(REPO_ROOT, 'bin', 'trackflow'))} "$@"; else command npx "$@"; fi; }\n`;
  try {
    const { stdout, stderr } = await run('bash', ['-euo', 'pipefail', '-c', prelude + script], { cwd: tmp, env, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

test('the README first-run sequence works as written: job export loaded first, tracking ingested, later runs skip', { timeout: 300_000 }, async () => {
  const cfg = stack.config;
  const taskQueue = `trackflow-first-run-${randomSuffix()}`;
  const workerConnection = await NativeConnection.connect({ address: cfg.temporal.address });
  try {
    const { consumeLease: _stream, ...activities } = createActivities(stack.deps);
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: cfg.temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('../../workflows'),
      activities,
    });
    await worker.runUntil(async () => {
      const first = await shell(readmeFirstRun(), taskQueue);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      const landing = path.join(tmp, 'landing');
      assert.ok(fs.existsSync(path.join(landing, 'tracking.csv')), 'generate wrote into ./landing');
      assert.match(first.stdout, /job\.csv\s+loaded\s+job export: 60 upserted, 0 rejected/);
      assert.match(first.stdout, /tracking\.csv\s+ingested\s+batch \S+, rows 10000, written 10000/);
      assert.match(first.stdout, /Published 10000 events/);

      const [jobs] = await stack.deps.mysql.query('SELECT COUNT(*) AS n FROM job');
      assert.equal(Number((jobs as Array<{ n: number }>)[0]?.n), 60, 'the generator pool has 60 jobs');

      // A later run over the same landing directory, now with a file that is not an export.
      fs.writeFileSync(path.join(landing, 'notes.csv'), 'owner,comment\nana,"first run"\n');
      const again = await shell('npx trackflow ingest --landing landing --wait', taskQueue);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /notes\.csv\s+skipped\s+not a tracking or job export/);
      assert.match(again.stdout, /\(1 file\(s\) skipped: already ingested\)/);
      assert.equal((again.stdout.match(/not a tracking or job export/g) ?? []).length, 1, 'reported once');
    });
  } finally {
    await workerConnection.close();
  }
});
