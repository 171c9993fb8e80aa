import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Report, Totals } from './format';
import { derive } from './format';

// Read-only, plain SQL shared by MySQL 8 and MariaDB 10.11. Spend is read as text so the exact DECIMAL sum
// reaches the formatter; the counts are integer sums.
const MEASURES = `COALESCE(SUM(e.clicks), 0) AS clicks, CAST(COALESCE(SUM(e.spend_hour), 0) AS CHAR) AS spend,
  COALESCE(SUM(e.conversion), 0) AS conversions, COALESCE(SUM(e.qualified_application), 0) AS qualified,
  COALESCE(SUM(e.disqualified_application), 0) AS disqualified`;

const SQL = {
  totals: `SELECT DATE_FORMAT(MIN(TIMESTAMP(e.dates) + INTERVAL e.hours HOUR), '%Y-%m-%d %H:00') AS first_hour,
    DATE_FORMAT(MAX(TIMESTAMP(e.dates) + INTERVAL e.hours HOUR), '%Y-%m-%d %H:00') AS last_hour, ${MEASURES} FROM events e`,
  company: `SELECT e.company_id, ${MEASURES} FROM events e GROUP BY e.company_id
    ORDER BY SUM(e.spend_hour) DESC, SUM(e.clicks) DESC, e.company_id`,
  campaign: `SELECT e.campaign_id, ${MEASURES} FROM events e GROUP BY e.campaign_id
    ORDER BY SUM(e.spend_hour) DESC, SUM(e.clicks) DESC, e.campaign_id`,
  jobs: `SELECT e.job_id, MAX(e.company_id) AS company_id, j.title, ${MEASURES}
    FROM events e LEFT JOIN job j ON j.id = e.job_id
    GROUP BY e.job_id, j.title
    ORDER BY SUM(e.spend_hour) DESC, SUM(e.clicks) DESC, e.job_id LIMIT ?`,
  hourly: `SELECT DATE_FORMAT(e.dates, '%Y-%m-%d') AS dates, e.hours, ${MEASURES} FROM events e
    GROUP BY e.dates, e.hours ORDER BY e.dates, e.hours`,
};

function totals(r: RowDataPacket): Totals {
  return {
    clicks: Number(r['clicks']),
    spend: String(r['spend']),
    conversions: Number(r['conversions']),
    qualified: Number(r['qualified']),
    disqualified: Number(r['disqualified']),
  };
}

const idOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Runs the four report queries (reads only: the application user is enough). */
export async function queryReport(pool: Pool, opts: { top: number }): Promise<Report> {
  const [[total], [company], [campaign], [jobs], [hourly]] = await Promise.all([
    pool.query<RowDataPacket[]>(SQL.totals),
    pool.query<RowDataPacket[]>(SQL.company),
    pool.query<RowDataPacket[]>(SQL.campaign),
    pool.query<RowDataPacket[]>(SQL.jobs, [opts.top]),
    pool.query<RowDataPacket[]>(SQL.hourly),
  ]);
  const t = total[0]!;
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    totals: { from: text(t['first_hour']), to: text(t['last_hour']), ...derive(totals(t)) },
    company: company.map((r) => ({ companyId: idOrNull(r['company_id']), ...derive(totals(r)) })),
    campaign: campaign.map((r) => ({ campaignId: Number(r['campaign_id']), ...derive(totals(r)) })),
    jobs: jobs.map((r) => ({
      jobId: Number(r['job_id']),
      companyId: idOrNull(r['company_id']),
      title: r['title'] === null || r['title'] === undefined ? null : String(r['title']),
      ...derive(totals(r)),
    })),
    hourly: hourly.map((r) => ({ dates: String(r['dates']), hours: Number(r['hours']), ...derive(totals(r)) })),
  };
}
