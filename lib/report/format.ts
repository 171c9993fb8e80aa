import { canonicalDecimal } from '../domain/transform';

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

export interface Report {
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

export function formatText(report: Report, sections: readonly Section[] = SECTIONS): string {
  return sections.map((s) => `${SECTION_TITLES[s]}\n\n${textTable(s, report[s])}`).join('\n\n');
}

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV table; nulls are empty fields, spend is the exact decimal. */
export function csvTable<S extends Section>(section: S, rows: Report[S]): string {
  const cols = COLUMNS[section] as Array<Column<Report[S][number]>>;
  const lines = [cols.map((c) => c.header).join(',')];
  for (const r of rows) lines.push(cols.map((c) => csvField(c.value(r))).join(','));
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
  for (const s of sections) {
    const cols = COLUMNS[s] as Array<Column<Report[typeof s][number]>>;
    out[s] = (report[s] as Array<Report[typeof s][number]>).map((r) => Object.fromEntries(cols.map((c) => [c.header, c.value(r)])));
  }
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** A horizontal bar chart as inline SVG: one bar per item, scaled to the largest value. */
export function svgBars(items: Array<{ label: string; value: number; text?: string }>, opts: { width?: number; color?: string } = {}): string {
  const width = opts.width ?? 640;
  const barH = 18;
  const gap = 6;
  const labelW = 160;
  const valueW = 90;
  const max = Math.max(0, ...items.map((i) => i.value));
  const height = Math.max(1, items.length) * (barH + gap) + gap;
  const span = width - labelW - valueW;
  const bars = items.map((it, i) => {
    const y = gap + i * (barH + gap);
    const w = max > 0 ? Math.max(it.value > 0 ? 1 : 0, Math.round((it.value / max) * span)) : 0;
    return (
      `<text x="${labelW - 6}" y="${y + barH - 5}" text-anchor="end">${escapeHtml(truncate(it.label, 24))}</text>` +
      `<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" fill="${opts.color ?? '#3b6ea5'}"/>` +
      `<text x="${labelW + w + 6}" y="${y + barH - 5}">${escapeHtml(it.text ?? String(it.value))}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">${bars.join('')}</svg>`;
}

function htmlTable<S extends Section>(section: S, rows: Report[S]): string {
  const cols = COLUMNS[section] as Array<Column<Report[S][number]>>;
  const head = cols.map((c) => `<th${c.numeric ? ' class="n"' : ''}>${escapeHtml(c.header)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td${c.numeric ? ' class="n"' : ''}>${escapeHtml(cellText(c, r))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const CHART_LIMIT = 20;

/** A self-contained page: inline CSS and SVG only, nothing fetched. */
export function formatHtml(report: Report, opts: { generatedAt: string; sections?: readonly Section[] }): string {
  const sections = opts.sections ?? SECTIONS;
  const charts: Record<Section, string> = {
    company: svgBars(report.company.slice(0, CHART_LIMIT).map((r) => ({ label: `company ${unknown(r.companyId)}`, value: Number(r.spend), text: money(r.spend) }))),
    campaign: svgBars(report.campaign.slice(0, CHART_LIMIT).map((r) => ({ label: `campaign ${r.campaignId}`, value: Number(r.spend), text: money(r.spend) }))),
    jobs: svgBars(report.jobs.slice(0, CHART_LIMIT).map((r) => ({ label: `job ${r.jobId}${r.title ? ` ${r.title}` : ''}`, value: Number(r.spend), text: money(r.spend) }))),
    hourly: svgBars(report.hourly.map((r) => ({ label: `${r.dates} ${String(r.hours).padStart(2, '0')}:00`, value: r.clicks, text: int(r.clicks) })), { color: '#5a9e6f' }),
  };
  const chartCaption: Record<Section, string> = { company: 'spend', campaign: 'spend', jobs: 'spend', hourly: 'clicks per hour' };
  const parts = sections.map(
    (s) =>
      `<section id="${s}"><h2>${escapeHtml(SECTION_TITLES[s])}</h2>\n<figure>${charts[s]}<figcaption>${chartCaption[s]}</figcaption></figure>\n${htmlTable(s, report[s])}</section>`,
  );
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>trackflow report</title>
<style>
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0 2em}
th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
th.n,td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:0}figcaption{color:#666;font-size:12px}
</style></head>
<body><h1>trackflow: where to invest next</h1>
<p>Generated ${escapeHtml(opts.generatedAt)} from the warehouse table <code>events</code>.</p>
${parts.join('\n')}
</body></html>
`;
}
