import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { historyFromFile, workflowBundle } from './support';

const HISTORIES = path.resolve(__dirname, '..', 'histories');

Runtime.install({ logger: new DefaultLogger('ERROR') });

function histories(): Array<{ name: string; workflowId: string; history: unknown }> {
  return fs
    .readdirSync(HISTORIES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, workflowId: path.basename(f, '.json'), history: historyFromFile(JSON.parse(fs.readFileSync(path.join(HISTORIES, f), 'utf8'))) }));
}

void test('recorded histories exist for every workflow', () => {
  const names = histories().map((h) => h.name);
  for (const wf of ['ingestAndPublish.json', 'streamToWarehouse.json', 'streamToWarehouse-continueAsNew.json', 'loadJobs.json']) {
    assert.ok(names.includes(wf), `test/histories/${wf} missing: run npm run histories:record`);
  }
});

void test('the current workflow code replays every recorded history', { timeout: 120_000 }, async () => {
  const bundle = await workflowBundle();
  const failures: string[] = [];
  for (const h of histories()) {
    try {
      await Worker.runReplayHistory({ workflowBundle: bundle, replayName: `replay-${h.workflowId}` }, h.history, h.workflowId);
    } catch (err) {
      failures.push(`${h.name}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
  }
  assert.deepEqual(failures, [], 'a workflow change is not replay-compatible; version it with patched() instead');
});

void test('an incompatible change (activities in a different order) fails replay', { timeout: 120_000 }, async () => {
  const h = histories().find((x) => x.name === 'ingestAndPublish.json');
  assert.ok(h);
  await assert.rejects(
    Worker.runReplayHistory(
      { workflowsPath: require.resolve('./fixtures/reorderedIngest'), replayName: 'replay-nondeterministic', bundlerOptions: { ignoreModules: [] } },
      h.history,
      h.workflowId,
    ),
    (err: unknown) => err instanceof DeterminismViolationError,
  );
});
