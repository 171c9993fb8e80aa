import { canonicalDecimal } from '../domain/transform';
import { escapeXml, svgBars as bars, svgLines, type Bar } from './charts';
import { buildTrend } from './trend';
import { csvRow } from '../domain/csv';

/** Sums over a slice of `events`; spend is the exact DECIMAL as text. */
export interface Totals {
  clicks: number;
  spend: string;
  conversions: number;
  qualified: number;
  disqualified: number;
}

export interface Metrics extends Totals {
  /** conversions / clicks; null when there were no clicks. */
  conversionRate: number | null;
  /** spend / conversions; null when there were no conversions. */
  costPerConversion: number | null;
}

export type CompanyRow = Metrics & { companyId: number | null };
export type CampaignRow = Metrics & { campaignId: number };
export type JobRow = Metrics & { jobId: number; companyId: number | null; title: string | null };
export type HourRow = Metrics & { dates: string; hours: number };

/** Over the whole table: the sums, and the first and last event hour (UTC). */
export type TotalsRow = Metrics & { from: string | null; to: string | null };

export interface Report {
  totals?: TotalsRow;
  company: CompanyRow[];
  campaign: CampaignRow[];
  jobs: JobRow[];
  hourly: HourRow[];
}

export const SECTIONS = ['company', 'campaign', 'jobs', 'hourly'] as const;
export type Section = (typeof SECTIONS)[number];

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function derive(t: Totals): Metrics {
  const spend = canonicalDecimal(t.spend) ?? '0.00';
  return {
    ...t,
    spend,
    conversionRate: t.clicks > 0 ? round(t.conversions / t.clicks, 6) : null,
    costPerConversion: t.conversions > 0 ? round(Number(spend) / t.conversions, 2) : null,
  };
}

interface Column<R> {
  header: string;
  /** Raw value for JSON/CSV. */
  value: (r: R) => string | number | null;
  /** Text for the terminal and HTML tables. */
  text?: (r: R) => string;
  numeric: boolean;
}

const int = (n: number) => n.toLocaleString('en-US');
const money = (v: string | number) =>
  Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
const orDash = (x: number | null, f: (n: number) => string) => (x === null ? '-' : f(x));

function measureColumns<R extends Metrics>(): Array<Column<R>> {
  return [
    { header: 'clicks', value: (r) => r.clicks, text: (r) => int(r.clicks), numeric: true },
    { header: 'spend', value: (r) => r.spend, text: (r) => money(r.spend), numeric: true },
    { header: 'conversions', value: (r) => r.conversions, text: (r) => int(r.conversions), numeric: true },
    { header: 'qualified', value: (r) => r.qualified, text: (r) => int(r.qualified), numeric: true },
    { header: 'disqualified', value: (r) => r.disqualified, text: (r) => int(r.disqualified), numeric: true },
    { header: 'conversion_rate', value: (r) => r.conversionRate, text: (r) => pct(r.conversionRate), numeric: true },
    { header: 'cost_per_conversion', value: (r) => r.costPerConversion, text: (r) => orDash(r.costPerConversion, money), numeric: true },
  ];
}

const unknown = (id: number | null) => (id === null ? 'unknown' : String(id));

const COLUMNS: { [S in Section]: Array<Column<Report[S][number]>> } = {
  company: [{ header: 'company_id', value: (r) => r.companyId, text: (r) => unknown(r.companyId), numeric: false }, ...measureColumns<CompanyRow>()],
  campaign: [{ header: 'campaign_id', value: (r) => r.campaignId, numeric: false }, ...measureColumns<CampaignRow>()],
  jobs: [
    { header: 'job_id', value: (r) => r.jobId, numeric: false },
    { header: 'company_id', value: (r) => r.companyId, text: (r) => unknown(r.companyId), numeric: false },
    { header: 'title', value: (r) => r.title, text: (r) => truncate(r.title ?? '', 40), numeric: false },
    ...measureColumns<JobRow>(),
  ],
  hourly: [
    { header: 'dates', value: (r) => r.dates, numeric: false },
    { header: 'hours', value: (r) => r.hours, numeric: false },
    ...measureColumns<HourRow>(),
  ],
};

export const SECTION_TITLES: Record<Section, string> = {
  company: 'By company (spend first)',
  campaign: 'By campaign (spend first)',
  jobs: 'Top jobs by spend, then clicks',
  hourly: 'Hourly trend (UTC)',
};

function truncate(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}

function cellText<R>(c: Column<R>, r: R): string {
  if (c.text) return c.text(r);
  const v = c.value(r);
  return v === null ? '-' : String(v);
}

/** An aligned plain-text table: numbers right-aligned, text left-aligned. */
export function textTable<S extends Section>(section: S, rows: Report[S]): string {
  const cols = COLUMNS[section] as Array<Column<Report[S][number]>>;
  const cells = rows.map((r) => cols.map((c) => cellText(c, r)));
  const widths = cols.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (cols[i]!.numeric ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(cols.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of cells) out.push(line(row));
  if (!rows.length) out.push('(no rows)');
  return out.join('\n');
}

export function totalsJson(t: TotalsRow): Record<string, unknown> {
  return {
    from: t.from,
    to: t.to,
    clicks: t.clicks,
    spend: t.spend,
    conversions: t.conversions,
    qualified: t.qualified,
    disqualified: t.disqualified,
    conversion_rate: t.conversionRate,
    cost_per_conversion: t.costPerConversion,
  };
}

function totalsLine(t: TotalsRow): string {
  return (
    `Totals ${t.from ?? '-'} .. ${t.to ?? '-'} (UTC): ${int(t.clicks)} clicks, spend ${money(t.spend)}, ${int(t.conversions)} conversions ` +
    `(${pct(t.conversionRate)}, ${orDash(t.costPerConversion, money)} per conversion), ${int(t.qualified)} qualified, ${int(t.disqualified)} disqualified`
  );
}

export function formatText(report: Report, sections: readonly Section[] = SECTIONS): string {
  const body = sections.map((s) => `${SECTION_TITLES[s]}\n\n${textTable(s, report[s])}`).join('\n\n');
  return report.totals ? `${totalsLine(report.totals)}\n\n${body}` : body;
}

/** One CSV table; nulls are empty fields, spend is the exact decimal. */
export function csvTable<S extends Section>(section: S, rows: Report[S]): string {
  const cols = COLUMNS[section] as Array<Column<Report[S][number]>>;
  const lines = [cols.map((c) => c.header).join(',')];
  for (const r of rows) lines.push(csvRow(cols.map((c) => c.value(r))));
  return lines.join('\n') + '\n';
}

/** Every section as CSV, each preceded by a `# section` line and separated by a blank line. */
export function formatCsv(report: Report, sections: readonly Section[] = SECTIONS): string {
  if (sections.length === 1) return csvTable(sections[0]!, report[sections[0]!]);
  return sections.map((s) => `# ${s}\n${csvTable(s, report[s])}`).join('\n');
}

/** JSON keyed by section, values as the CSV has them (spend a string, so no float rounding). */
export function toJson(report: Report, sections: readonly Section[] = SECTIONS): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (report.totals) out['totals'] = totalsJson(report.totals);
  for (const s of sections) {
    const cols = COLUMNS[s] as Array<Column<Report[typeof s][number]>>;
    out[s] = (report[s] as Array<Report[typeof s][number]>).map((r) => Object.fromEntries(cols.map((c) => [c.header, c.value(r)])));
  }
  return out;
}

export const escapeHtml = escapeXml;

/** Horizontal bars (kept for callers of the earlier API; see charts.ts). */
export function svgBars(items: Bar[], opts: { width?: number; color?: string } = {}): string {
  return bars(items, opts);
}

function htmlTable<S extends Section>(section: S, rows: Report[S]): string {
  const cols = COLUMNS[section] as Array<Column<Report[S][number]>>;
  const head = cols.map((c) => `<th${c.numeric ? ' class="n"' : ''}>${escapeHtml(c.header)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td${c.numeric ? ' class="n"' : ''}>${escapeHtml(cellText(c, r))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export const CHART_LIMIT = 20;

/** One label per job: its title when it has one (titles often already say "Job 644"), else the id. */
export function jobLabel(r: Pick<JobRow, 'jobId' | 'title'>): string {
  const title = r.title?.replace(/\s+/g, ' ').trim();
  return title ? title : `job ${r.jobId}`;
}

function figure(id: string, svg: string, caption: string): string {
  return `<figure id="${id}">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function spendBars<R extends Metrics>(rows: R[], label: (r: R) => string): string {
  return svgBars(rows.slice(0, CHART_LIMIT).map((r) => ({ label: label(r), value: Number(r.spend), text: money(r.spend) })));
}

function sectionCharts(report: Report): Record<Section, string> {
  const companyLabel = (r: CompanyRow) => `company ${unknown(r.companyId)}`;
  const top = report.company.slice(0, CHART_LIMIT);
  return {
    company:
      figure('chart-company-spend', spendBars(report.company, companyLabel), 'spend, top 20 companies') +
      figure('chart-company-rate', svgBars(top.map((r) => ({ label: companyLabel(r), value: r.conversionRate ?? 0, text: pct(r.conversionRate) })), { color: '#8a5fb3' }), 'conversion rate, same companies') +
      figure('chart-company-cpc', svgBars(top.map((r) => ({ label: companyLabel(r), value: r.costPerConversion ?? 0, text: orDash(r.costPerConversion, money) })), { color: '#c0703a' }), 'cost per conversion, same companies (- when none)'),
    campaign: figure('chart-campaign-spend', spendBars(report.campaign, (r) => `campaign ${r.campaignId}`), 'spend, top 20 campaigns'),
    jobs: figure('chart-jobs-spend', spendBars(report.jobs, jobLabel), 'spend, top jobs'),
    hourly: trendCharts(report.hourly),
  };
}

function trendCharts(rows: HourRow[]): string {
  const trend = buildTrend(rows);
  const labels = trend.buckets.map((b) => b.label);
  const unit = trend.granularity === 'hour' ? 'hour' : 'day';
  const volume = svgLines(labels, [
    { name: `clicks per ${unit}`, color: '#3b6ea5', values: trend.buckets.map((b) => b.clicks) },
    { name: `conversions per ${unit}`, color: '#5a9e6f', values: trend.buckets.map((b) => b.conversions) },
  ]);
  const rate = svgLines(labels, [{ name: 'conversion rate', color: '#8a5fb3', values: trend.buckets.map((b) => b.conversionRate) }], {
    format: (v) => `${(v * 100).toFixed(1)}%`,
  });
  const cpc = svgLines(labels, [{ name: 'cost per conversion', color: '#c0703a', values: trend.buckets.map((b) => b.costPerConversion) }], {
    format: (v) => money(v),
  });
  return (
    figure('chart-trend', volume, `${trend.buckets.length} ${unit}s, UTC; an ${unit} without events is 0`) +
    figure('chart-trend-rate', rate, `conversion rate per ${unit} (gap: no clicks)`) +
    figure('chart-trend-cpc', cpc, `cost per conversion per ${unit} (gap: no conversions)`)
  );
}

function totalsHtml(t: TotalsRow | undefined): string {
  if (!t) return '';
  const cell = (k: string, label: string, v: string) => `<div class="kpi" data-key="${k}"><span>${escapeHtml(label)}</span><b>${escapeHtml(v)}</b></div>`;
  return (
    `<p class="range">Events from <b>${escapeHtml(t.from ?? '-')}</b> to <b>${escapeHtml(t.to ?? '-')}</b> (UTC).</p>` +
    `<div class="kpis" id="totals">${[
      cell('clicks', 'clicks', int(t.clicks)),
      cell('spend', 'spend', money(t.spend)),
      cell('conversions', 'conversions', int(t.conversions)),
      cell('conversion_rate', 'conversion rate', pct(t.conversionRate)),
      cell('cost_per_conversion', 'cost per conversion', orDash(t.costPerConversion, money)),
      cell('qualified', 'qualified', int(t.qualified)),
      cell('disqualified', 'disqualified', int(t.disqualified)),
    ].join('')}</div>`
  );
}

const STYLE = `body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0 2em}
th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
th.n,td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:0 0 1.5em}figcaption{color:#666;font-size:12px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:1em 0 2em}
.kpi{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}
.kpi span{display:block;color:#666;font-size:12px}.kpi b{font-size:20px;font-variant-numeric:tabular-nums}`;

/** A self-contained page: inline CSS and SVG only, nothing fetched, no script. */
export function formatHtml(report: Report, opts: { generatedAt: string; sections?: readonly Section[] }): string {
  const sections = opts.sections ?? SECTIONS;
  const charts = sectionCharts(report);
  const parts = sections.map((s) => `<section id="${s}"><h2>${escapeHtml(SECTION_TITLES[s])}</h2>\n${charts[s]}\n${htmlTable(s, report[s])}</section>`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trackflow report</title>
<style>
${STYLE}
</style></head>
<body><h1>trackflow: where to invest next</h1>
<p>Generated ${escapeHtml(opts.generatedAt)} from the warehouse table <code>events</code>.</p>
${totalsHtml(report.totals)}
${parts.join('\n')}
</body></html>
`;
}
