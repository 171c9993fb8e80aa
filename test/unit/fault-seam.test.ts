import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pool } from 'mysql2/promise';
import type { FaultPoint } from '../../lib/faults';
import { faultForAttempt } from '../../lib/faults';
import { commitBatch } from '../../lib/stream/commit';
import type { JobDirectory } from '../../lib/stream/jobCompanyLookup';
import { hookFor } from '../support/faultHooks';

/** The switches the pipeline used to read. Setting them must change nothing now. */
const OLD_SWITCHES = {
  NODE_ENV: 'test',
  TRACKFLOW_FAULTS: '1',
  TRACKFLOW_FAULT_STREAM: 'before-commit',
  TRACKFLOW_FAULT_STREAM_BATCH: '1',
  TRACKFLOW_FAULT_PUBLISH_KILL_AFTER_PAGES: '1',
  TRACKFLOW_FAULT_REBUILD_KILL_AT_HOUR: '2022-07-08T00',
  TRACKFLOW_FAULT_INGEST_CRASH_AFTER_ROWS: '1',
};

/** A pool whose one connection answers every query with no rows and records what the transaction did. */
function fakePool(log: string[]): Pool {
  const conn = {
    query: async (sql: string) => {
      log.push(sql.split(/\s+/).slice(0, 3).join(' '));
      return [[], []];
    },
    beginTransaction: async () => void log.push('BEGIN'),
    commit: async () => void log.push('COMMIT'),
    rollback: async () => void log.push('ROLLBACK'),
    release: () => void log.push('release'),
    destroy: () => void log.push('destroy'),
  };
  return { getConnection: async () => conn } as unknown as Pool;
}

const jobs = { lookup: async () => ({ jobs: new Map(), refreshed: [] }) } as unknown as JobDirectory;
const batch = {
  group: 'g', topic: 't', partition: 0, expectedOffset: '0', earliestOffset: '0', nextOffset: '3',
  countable: [], counts: { consumed: 3, filtered: 3, unattributed: 0, deadLettered: 0 }, attemptToken: 'a',
};

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

void test('with the old fault switches set in the environment, a batch commit without a hook commits normally', async () => {
  const log: string[] = [];
  // Under the old switches this exact call SIGKILLed the process at its first COMMIT.
  const result = await withEnv(OLD_SWITCHES, () => commitBatch(fakePool(log), jobs, batch));
  assert.equal(result.status, 'committed');
  assert.ok(log.includes('COMMIT'), log.join(' | '));
  assert.equal(log.at(-1), 'release');
});

void test('activities built without a hook have no stage hook on any attempt, whatever the environment says', async () => {
  await withEnv(OLD_SWITCHES, async () => {
    for (const attempt of [1, 2, 5]) assert.equal(faultForAttempt(undefined, attempt), undefined);
  });
});

void test('the hook, when injected, sees both commit points of the same transaction around its COMMIT', async () => {
  const log: string[] = [];
  const seen: FaultPoint[] = [];
  await commitBatch(fakePool(log), jobs, {
    ...batch,
    fault: (at) => {
      seen.push(at);
      log.push(`fault:${at.stage === 'stream' ? at.point : at.stage}`);
    },
  });
  const i = log.indexOf('COMMIT');
  assert.deepEqual(log.slice(i - 1, i + 2), ['fault:before-commit', 'COMMIT', 'fault:after-commit']);
  assert.deepEqual(seen, [
    { stage: 'stream', point: 'before-commit', partition: 0, expectedOffset: '0' },
    { stage: 'stream', point: 'after-commit', partition: 0, expectedOffset: '0' },
  ]);
});

void test('a test hook dies at the nth transaction, and its after-commit fault waits for that same transaction', () => {
  const died: string[] = [];
  const hook = hookFor({ stage: 'stream', point: 'after-commit', nth: 2 }, () => died.push('x'));
  const at = (point: 'before-commit' | 'after-commit', partition: number): FaultPoint => ({ stage: 'stream', point, partition, expectedOffset: '0' });
  hook(at('before-commit', 0), 1);
  hook(at('before-commit', 1), 1); // the 2nd transaction
  hook(at('after-commit', 0), 1); // the 1st commits: no fault
  assert.deepEqual([...died], []);
  hook(at('after-commit', 1), 1);
  assert.deepEqual([...died], ['x']);
  const publish = hookFor({ stage: 'publish', afterPages: 2 }, () => died.push('publish'));
  publish({ stage: 'publish', point: 'page-acknowledged', pagesSent: 2 }, 2); // a retry runs clean
  publish({ stage: 'publish', point: 'page-acknowledged', pagesSent: 1 }, 1);
  assert.deepEqual([...died], ['x']);
  publish({ stage: 'publish', point: 'page-acknowledged', pagesSent: 2 }, 1);
  assert.deepEqual([...died], ['x', 'publish']);
});
