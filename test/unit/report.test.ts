import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Report } from '../../lib/report/format';
import { csvTable, derive, escapeHtml, formatCsv, formatHtml, formatText, jobLabel, svgBars, textTable, toJson } from '../../lib/report/format';
import { buildTrend } from '../../lib/report/trend';

const t = (clicks: number, spend: string, conversions: number, qualified = 0, disqualified = 0) =>
  derive({ clicks, spend, conversions, qualified, disqualified });

const report: Report = {
  company: [
    { companyId: 1, ...t(108, '216.000000', 4, 1, 2) },
    { companyId: null, ...t(0, '0.000000', 3) },
  ],
  campaign: [{ campaignId: 4, ...t(108, '216.000000', 4) }],
  jobs: [{ jobId: 98, companyId: 1, title: 'Senior "Data" <Engineer>, remote', ...t(108, '216.000000', 0) }],
  hourly: [
    { dates: '2022-07-08', hours: 9, ...t(108, '216.000000', 4) },
    { dates: '2022-07-08', hours: 10, ...t(12, '6.125000', 0) },
  ],
};

describe('report metrics', () => {
  test('conversion rate and cost per conversion, null when undefined', () => {
    const m = t(108, '216.000000', 4);
    assert.equal(m.spend, '216.00');
    assert.equal(m.conversionRate, 0.037037);
    assert.equal(m.costPerConversion, 54);
    const none = t(0, '0', 3);
    assert.equal(none.conversionRate, null);
    assert.equal(none.costPerConversion, 0);
    const noConv = t(12, '6.125000', 0);
    assert.equal(noConv.spend, '6.125');
    assert.equal(noConv.conversionRate, 0);
    assert.equal(noConv.costPerConversion, null);
  });
});

describe('report formatting', () => {
  test('terminal tables are aligned: numbers right, text left, every line as wide as the header rule', () => {
    const text = textTable('company', report.company);
    const lines = text.split('\n');
    assert.equal(lines[0], 'company_id  clicks   spend  conversions  qualified  disqualified  conversion_rate  cost_per_conversion');
    assert.equal(lines[2], '1              108  216.00            4          1             2            3.70%                54.00');
    assert.equal(lines[3], 'unknown          0    0.00            3          0             0                -                 0.00');
    const rule = lines[1]!.length;
    for (const l of lines.slice(2)) assert.equal(l.length, rule);
    assert.match(formatText(report), /By company[\s\S]*By campaign[\s\S]*Top jobs[\s\S]*Hourly trend/);
    assert.match(textTable('jobs', []), /\(no rows\)/);
  });

  test('CSV: exact spend, empty for null, quoted text, one section per table', () => {
    const jobs = csvTable('jobs', report.jobs);
    assert.equal(
      jobs,
      'job_id,company_id,title,clicks,spend,conversions,qualified,disqualified,conversion_rate,cost_per_conversion\n' +
        '98,1,"Senior ""Data"" <Engineer>, remote",108,216.00,0,0,0,0,\n',
    );
    const all = formatCsv(report);
    assert.deepEqual(all.match(/^# \w+$/gm), ['# company', '# campaign', '# jobs', '# hourly']);
    assert.match(all, /^,0,0\.00,3,0,0,,0$/m);
    assert.equal(formatCsv(report, ['hourly']).split('\n')[2], '2022-07-08,10,12,6.125,0,0,0,0,');
  });

  test('JSON keyed by section, with nulls and spend as exact text', () => {
    const j = toJson(report, ['company', 'hourly']) as Record<string, Array<Record<string, unknown>>>;
    assert.deepEqual(Object.keys(j), ['company', 'hourly']);
    assert.deepEqual(j['company']![1], {
      company_id: null, clicks: 0, spend: '0.00', conversions: 3, qualified: 0, disqualified: 0,
      conversion_rate: null, cost_per_conversion: 0,
    });
    assert.equal(j['hourly']![1]!['spend'], '6.125');
  });

  test('HTML is self-contained, escaped: spend, rate and cost charts for companies, a chart per other section, three trend lines', () => {
    const html = formatHtml(report, { generatedAt: '2024-01-01T00:00:00.000Z' });
    assert.match(html, /^<!DOCTYPE html>/);
    assert.equal(html.match(/<svg /g)?.length, 3 + 1 + 1 + 3);
    assert.equal(html.match(/<svg [^>]*class="chart line"/g)?.length, 3);
    assert.doesNotMatch(html, /<(script|link|img)\b/);
    assert.doesNotMatch(html, /(src|href)=/);
    assert.match(html, /Senior &quot;Data&quot; &lt;Engineer&gt;, remote/);
    assert.doesNotMatch(html, /<Engineer>/);
  });

  test('bars scale to the largest value', () => {
    const svg = svgBars([
      { label: 'a', value: 10 },
      { label: 'b', value: 5 },
      { label: 'c', value: 0 },
    ], { width: 490 });
    const widths = [...svg.matchAll(/<rect [^>]*width="(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(widths, [200, 100, 0]);
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('report trend and labels', () => {
  test('hourly buckets are continuous from the first to the last hour, an hour without events is zero', () => {
    const trend = buildTrend([
      { dates: '2022-07-08', hours: 22, ...t(10, '5.00', 1) },
      { dates: '2022-07-09', hours: 1, ...t(4, '2.00', 0) },
    ]);
    assert.equal(trend.granularity, 'hour');
    assert.deepEqual(trend.buckets.map((b) => [b.label, b.clicks]), [
      ['2022-07-08 22:00', 10],
      ['2022-07-08 23:00', 0],
      ['2022-07-09 00:00', 0],
      ['2022-07-09 01:00', 4],
    ]);
    assert.equal(trend.buckets[0]!.conversionRate, 0.1);
    assert.equal(trend.buckets[0]!.costPerConversion, 5);
    assert.equal(trend.buckets[1]!.conversionRate, null);
    assert.equal(trend.buckets[3]!.costPerConversion, null);
  });

  test('beyond two weeks the trend is daily, summing the hours of each day', () => {
    const trend = buildTrend([
      { dates: '2022-07-01', hours: 3, ...t(1, '1.00', 0) },
      { dates: '2022-07-01', hours: 20, ...t(2, '1.00', 1) },
      { dates: '2022-07-20', hours: 0, ...t(5, '1.00', 0) },
    ]);
    assert.equal(trend.granularity, 'day');
    assert.equal(trend.buckets.length, 20);
    assert.deepEqual(trend.buckets[0], { label: '2022-07-01', clicks: 3, conversions: 1, spend: 2, conversionRate: 0.333333, costPerConversion: 2 });
    assert.equal(trend.buckets[19]!.clicks, 5);
  });

  test('a job is labelled once: by its title, or by its id when it has none', () => {
    assert.equal(jobLabel({ jobId: 644, title: 'Job 644' }), 'Job 644');
    assert.equal(jobLabel({ jobId: 644, title: null }), 'job 644');
    const html = formatHtml({ ...report, jobs: [{ jobId: 644, companyId: 1, title: 'Job 644', ...t(3, '1.00', 0) }] }, { generatedAt: 'x', sections: ['jobs'] });
    assert.doesNotMatch(html, /job 644 Job 644/i);
    assert.match(html, />Job 644</);
  });

  test('totals and the date range head the page, the text and the JSON', () => {
    const withTotals = { ...report, totals: { from: '2022-07-08 09:00', to: '2022-07-08 10:00', ...t(120, '222.125', 4, 1, 2) } };
    const html = formatHtml(withTotals, { generatedAt: 'x' });
    assert.match(html, /Events from <b>2022-07-08 09:00<\/b> to <b>2022-07-08 10:00<\/b>/);
    assert.match(html, /data-key="spend"><span>spend<\/span><b>222\.13<\/b>/);
    assert.match(formatText(withTotals), /^Totals 2022-07-08 09:00 \.\. 2022-07-08 10:00 \(UTC\): 120 clicks, spend 222\.13, 4 conversions \(3\.33%, 55\.53 per conversion\)/);
    assert.deepEqual((toJson(withTotals, ['jobs']) as Record<string, unknown>)['totals'], {
      from: '2022-07-08 09:00', to: '2022-07-08 10:00', clicks: 120, spend: '222.125', conversions: 4, qualified: 1, disqualified: 2,
      conversion_rate: 0.033333, cost_per_conversion: 55.53,
    });
  });
});
