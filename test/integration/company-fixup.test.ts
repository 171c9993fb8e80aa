import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'mysql2/promise';
import { isolatedConfig } from '../support/env';
import { createMysqlAdminPool, createMysqlPool } from '../../lib/clients/mysql';
import { migrateMysql, revokeMysqlApp } from '../../lib/migrate/mysql';
import { fixUnknownCompanies } from '../../lib/stream/jobCompanyLookup';

// The company fix-up both the stream and the job loader run (docs/data-contract.md: company_id = job.company_id,
// null while the job is unknown; the update time is the row's bookkeeping and moves when the row changes).
const cfg = isolatedConfig('company-fixup');
let admin: Pool;
let pool: Pool;

const OLD = '2020-01-01 00:00:00.000';

before(async () => {
  admin = createMysqlAdminPool(cfg.mysql);
  await migrateMysql(admin, cfg.mysql.database, { appUser: cfg.mysql.user });
  pool = createMysqlPool(cfg.mysql);
  // Jobs: 1 and 5 have a company, 2 has none, 4 has one but its row already carries another; 3 is unknown.
  await pool.query('INSERT INTO job (id, company_id, updated_at) VALUES (1, 10, ?), (2, NULL, ?), (4, 40, ?), (5, 50, ?)', [OLD, OLD, OLD, OLD]);
  await pool.query(
    `INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, clicks, company_id, updated_at) VALUES
       (1, '2022-07-08', 9, 1, 4, 0, 3, NULL, ?), (2, '2022-07-08', 9, 1, 4, 0, 1, NULL, ?),
       (3, '2022-07-08', 9, 1, 4, 0, 1, NULL, ?), (4, '2022-07-08', 9, 1, 4, 0, 1, 99, ?),
       (5, '2022-07-08', 10, 2, 0, 0, 2, NULL, ?)`,
    [OLD, OLD, OLD, OLD, OLD],
  );
});

after(async () => {
  await pool?.end();
  if (admin) await revokeMysqlApp(admin, cfg.mysql.database, cfg.mysql.user).catch(() => undefined);
  await admin?.query(`DROP DATABASE IF EXISTS \`${cfg.mysql.database}\``);
  await admin?.end();
});

async function rows(): Promise<Array<{ job_id: number; company_id: number | null; moved: number }>> {
  const [r] = await pool.query(`SELECT job_id, company_id, updated_at > ? AS moved FROM events ORDER BY job_id`, [OLD]);
  return (r as Array<{ job_id: number; company_id: number | string | null; moved: number | string }>).map((x) => ({
    job_id: Number(x.job_id),
    company_id: x.company_id === null ? null : Number(x.company_id),
    moved: Number(x.moved),
  }));
}

void test('the fix-up fills company_id of the named jobs only, moves their update time, and leaves every other row alone', async () => {
  assert.equal(await fixUnknownCompanies(pool, []), 0);
  assert.equal(await fixUnknownCompanies(pool, [1, 3]), 1);
  assert.deepEqual(await rows(), [
    { job_id: 1, company_id: 10, moved: 1 },
    { job_id: 2, company_id: null, moved: 0 },
    { job_id: 3, company_id: null, moved: 0 },
    { job_id: 4, company_id: 99, moved: 0 },
    { job_id: 5, company_id: null, moved: 0 },
  ]);
});

void test('without job ids it fills every row whose job now has a company; a second run changes nothing', async () => {
  assert.equal(await fixUnknownCompanies(pool), 1);
  assert.equal(await fixUnknownCompanies(pool), 0);
  assert.deepEqual(await rows(), [
    { job_id: 1, company_id: 10, moved: 1 },
    { job_id: 2, company_id: null, moved: 0 },
    { job_id: 3, company_id: null, moved: 0 },
    { job_id: 4, company_id: 99, moved: 0 },
    { job_id: 5, company_id: 50, moved: 1 },
  ]);
});
