import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';

interface Entry {
  known: boolean;
  companyId: number | null;
  fetchedAt: number;
}

export interface JobLookup {
  /** company_id per job id; `known` is false when the job dimension has no such job yet. */
  jobs: Map<number, { known: boolean; companyId: number | null }>;
  /** Jobs (re)loaded from the dimension with a company: warehouse rows written earlier with NULL can be fixed. */
  refreshed: number[];
}

const ER_NO_SUCH_TABLE = 1146;

/**
 * A read-through cache of the job dimension (job.id -> job.company_id). Known jobs are re-read after
 * `knownTtlMs`, unknown ones sooner (`unknownTtlMs`) because the job loader may add them at any time.
 */
export class JobDirectory {
  private readonly cache = new Map<number, Entry>();
  private missingTableWarned = false;

  constructor(
    private readonly pool: Pool,
    private readonly opts: { knownTtlMs: number; unknownTtlMs: number } = { knownTtlMs: 60_000, unknownTtlMs: 10_000 },
  ) {}

  async lookup(ids: Iterable<number>): Promise<JobLookup> {
    const now = Date.now();
    const stale: number[] = [];
    const wanted = new Set(ids);
    for (const id of wanted) {
      const e = this.cache.get(id);
      const ttl = e?.known ? this.opts.knownTtlMs : this.opts.unknownTtlMs;
      if (!e || now - e.fetchedAt >= ttl) stale.push(id);
    }
    const refreshed: number[] = [];
    if (stale.length) {
      const found = await this.fetch(stale);
      for (const id of stale) {
        const hit = found.get(id);
        this.cache.set(id, { known: hit !== undefined, companyId: hit ?? null, fetchedAt: now });
        if (hit !== undefined && hit !== null) refreshed.push(id);
      }
    }
    const jobs = new Map<number, { known: boolean; companyId: number | null }>();
    for (const id of wanted) {
      const e = this.cache.get(id);
      jobs.set(id, { known: e?.known ?? false, companyId: e?.companyId ?? null });
    }
    return { jobs, refreshed };
  }

  private async fetch(ids: number[]): Promise<Map<number, number | null>> {
    const out = new Map<number, number | null>();
    try {
      for (let i = 0; i < ids.length; i += 5000) {
        const [rows] = await this.pool.query<RowDataPacket[]>('SELECT id, company_id FROM job WHERE id IN (?)', [
          ids.slice(i, i + 5000),
        ]);
        for (const r of rows) out.set(Number(r['id']), r['company_id'] === null ? null : Number(r['company_id']));
      }
    } catch (err) {
      // Before the job loader's migration exists every job is simply unknown; the fix-up repairs rows later.
      if ((err as { errno?: number }).errno !== ER_NO_SUCH_TABLE) throw err;
      if (!this.missingTableWarned) {
        this.missingTableWarned = true;
        process.emitWarning('job table not found: company_id stays NULL until the job dimension is loaded');
      }
    }
    return out;
  }
}

/**
 * Fills company_id on warehouse rows written while their job was unknown (all of them, or those of `jobIds`),
 * and moves their update time, since the row changed. Safe to run any time, by anyone: it only touches rows
 * whose company_id is still NULL. The stream calls it in its commit, the job loader after a load.
 */
export async function fixUnknownCompanies(db: Pool | PoolConnection, jobIds?: number[]): Promise<number> {
  if (jobIds && jobIds.length === 0) return 0;
  const sql =
    'UPDATE events e JOIN job j ON j.id = e.job_id SET e.company_id = j.company_id, e.updated_at = UTC_TIMESTAMP(3) ' +
    'WHERE e.company_id IS NULL AND j.company_id IS NOT NULL' +
    (jobIds ? ' AND e.job_id IN (?)' : '');
  const [result] = await db.query(sql, jobIds ? [jobIds] : []);
  return (result as { affectedRows: number }).affectedRows;
}
