import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import type { Pool } from 'mysql2/promise';
import { isolatedConfig } from '../support/env';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { migrateMysql, revokeMysqlApp } from '../../lib/migrate/mysql';
import { Metrics } from '../../lib/metrics';
import { createJobActivities } from '../../activities/jobCatalogue';
import type { ActivityDeps } from '../../activities/deps';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'job_sample.csv');

// MySQL only: the job dimension does not touch the lake, so this suite does not need Cassandra.
const cfg = isolatedConfig('jobs');
let admin: Pool;
let pool: Pool;
let activities: ReturnType<typeof createJobActivities>;

before(async () => {
  admin = createMysqlAdminPool(cfg.mysql);
  await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
  pool = createMysqlPool(cfg.mysql);
  activities = createJobActivities({ mysql: pool, config: cfg, metrics: new Metrics() } as unknown as ActivityDeps);
});

after(async () => {
  await pool?.end();
  if (admin) await revokeMysqlApp(admin, cfg.mysql.database, cfg.mysql.user).catch(() => undefined);
  await admin?.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
  await admin?.end();
});

async function scalar(sql: string, params: unknown[] = []): Promise<unknown> {
  const [rows] = await pool.query(sql, params);
  return Object.values((rows as Array<Record<string, unknown>>)[0] ?? {})[0];
}

void test('loading the job sample twice is idempotent, and late warehouse rows get their company', async () => {
  // A warehouse row written before job 98 was known.
  await pool.query(
    `INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, clicks, company_id, updated_at)
     VALUES (98, '2022-07-08', 9, 1, 4, 0, 108, NULL, UTC_TIMESTAMP(3))`,
  );
  const first = await activities.loadJobs({ path: FIXTURE });
  assert.equal(first.rowsRead, 42);
  assert.equal(first.upserted, 42);
  assert.equal(first.rejected, 0);
  assert.equal(first.warehouseRowsFixed, 1);
  assert.equal(Number(await scalar(`SELECT company_id FROM events WHERE job_id = 98`)), 1);

  const second = await activities.loadJobs({ path: FIXTURE });
  assert.deepEqual({ ...second, warehouseRowsFixed: 0 }, { ...first, warehouseRowsFixed: 0 });
  assert.equal(second.warehouseRowsFixed, 0);
  assert.equal(Number(await scalar(`SELECT COUNT(*) FROM job`)), 42);

  // Read off the CSV by hand: job 98 -> company 1, campaign 4, no group; job 187 -> company 33, group 34.
  const [rows] = await pool.query(`SELECT id, company_id, campaign_id, group_id, title, status FROM job WHERE id IN (98, 187) ORDER BY id`);
  assert.deepEqual(rows, [
    { id: 98, company_id: 1, campaign_id: 4, group_id: null, title: 'Job1', status: 1 },
    { id: 187, company_id: 33, campaign_id: 48, group_id: 34, title: 'FE 01', status: 1 },
  ]);
  const desc = String(await scalar(`SELECT description FROM job WHERE id = 1497`));
  assert.ok(desc.includes('\n'), 'multi-line description kept');
});

void test('a missing job file fails without retry', async () => {
  await assert.rejects(activities.loadJobs({ path: path.join(os.tmpdir(), 'trackflow-nonexistent', 'job.csv') }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'FileNotFound');
    assert.equal(err.nonRetryable, true);
    return true;
  });
});
