import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../../lib/config';
import { isolatedEnv, openTestStack } from '../support/env';
import type { TestStack } from '../support/env';

const run = promisify(execFile);
/** Kept after the run (gitignored) so a reader can look at what the browser rendered. */
const ARTIFACTS = path.join(REPO_ROOT, 'test', 'artifacts');
const CHROMIUM = '/usr/bin/chromium';

/**
 * The warehouse for this test, written by hand: 3 companies, 6 jobs, 50 hours from 2022-07-01 00:00 to
 * 2022-07-03 01:00 with hours 10..13 of the first day empty. Job 644's title is "Job 644", the label that
 * used to be printed twice.
 */
const FIRST_HOUR = Date.parse('2022-07-01T00:00:00Z');
const HOURS = 50;
const EMPTY = new Set([10, 11, 12, 13]);
const JOBS = [
  { id: 644, company: 1, title: 'Job 644' },
  { id: 645, company: 1, title: 'Data engineer' },
  { id: 700, company: 2, title: 'Nurse, night shifts' },
  { id: 701, company: 2, title: null },
  { id: 800, company: 3, title: 'Driver' },
  { id: 801, company: 3, title: 'Cook' },
];

interface Row { job: number; company: number; hourIndex: number; clicks: number; spend: string; conversions: number }

function rows(): Row[] {
  const out: Row[] = [];
  for (let h = 0; h < HOURS; h++) {
    if (EMPTY.has(h)) continue;
    JOBS.forEach((j, k) => {
      const clicks = (h * 7 + k * 3) % 11;
      const conversions = (h + k) % 5 === 0 ? 1 : 0;
      if (clicks === 0 && conversions === 0) return;
      out.push({ job: j.id, company: j.company, hourIndex: h, clicks, spend: (clicks * (0.5 + k * 0.25)).toFixed(2), conversions });
    });
  }
  return out;
}

let stack: TestStack;
let tmp: string;
before(async () => {
  stack = await openTestStack('reportui');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-report-'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const mysql = stack.deps.mysql;
  for (const j of JOBS) await mysql.query('INSERT INTO job (id, title, company_id, updated_at) VALUES (?, ?, ?, NOW(3))', [j.id, j.title, j.company]);
  const values = rows().map((r) => {
    const t = new Date(FIRST_HOUR + r.hourIndex * 3_600_000);
    return [r.job, t.toISOString().slice(0, 10), t.getUTCHours(), 1, 10, 20, r.clicks, r.spend, r.conversions, r.company, new Date()];
  });
  await mysql.query(
    'INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, clicks, spend_hour, conversion, company_id, updated_at) VALUES ?',
    [values],
  );
});
after(async () => {
  await stack?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function trackflow(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [path.join(REPO_ROOT, 'bin', 'trackflow'), ...args], { env: isolatedEnv(stack.config), timeout: 60_000, maxBuffer: 16 << 20 });
}

test('the HTML report in Chromium: charts with the expected marks, numbers equal to report --json, no console error', { timeout: 180_000 }, async () => {
  const data = rows();
  const htmlPath = path.join(tmp, 'report.html');
  const json = JSON.parse((await trackflow('report', '--json')).stdout) as {
    totals: { clicks: number; spend: string; conversions: number; from: string; to: string };
    company: Array<{ company_id: number; spend: string; conversion_rate: number | null }>;
  };
  const written = await trackflow('report', '--html', htmlPath);
  assert.match(written.stderr, new RegExp(`wrote ${htmlPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`), 'report --html says where it wrote');

  // Hand-computed from the rows above.
  const clicks = data.reduce((a, r) => a + r.clicks, 0);
  const hoursWithClicks = new Set(data.filter((r) => r.clicks > 0).map((r) => r.hourIndex)).size;
  const hoursWithConversions = new Set(data.filter((r) => r.conversions > 0).map((r) => r.hourIndex)).size;
  assert.equal(json.totals.clicks, clicks);
  assert.equal(json.totals.from, '2022-07-01 00:00');
  assert.equal(json.totals.to, '2022-07-03 01:00');

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackflow-chromium-'));
  // A fresh profile each run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
  });
  const problems: string[] = [];
  const requests: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(htmlPath).href);

    // The trend: one point per hour from the first to the last, for clicks and conversions.
    assert.equal(await page.locator('#chart-trend circle.mark').count(), 2 * HOURS);
    assert.equal(await page.locator('#chart-trend-rate circle.mark').count(), hoursWithClicks);
    assert.equal(await page.locator('#chart-trend-cpc circle.mark').count(), hoursWithConversions);
    assert.equal(await page.locator('#chart-trend polyline').count() >= 2, true);
    const clickValues = await page.locator('#chart-trend circle.mark[data-series^="clicks"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    assert.equal(clickValues.reduce((a, b) => a + b, 0), json.totals.clicks);
    assert.deepEqual(clickValues.slice(10, 14), [0, 0, 0, 0], 'the empty hours are zeros on the line');

    // Company charts: one bar per company, values as report --json has them.
    const spend = await page.locator('#chart-company-spend rect.mark').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    assert.deepEqual(spend, json.company.map((c) => Number(c.spend)));
    const rates = await page.locator('#chart-company-rate rect.mark').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    assert.deepEqual(rates, json.company.map((c) => c.conversion_rate ?? 0));
    assert.equal(await page.locator('#chart-company-cpc rect.mark').count(), json.company.length);
    assert.equal(await page.locator('#chart-jobs-spend rect.mark').count(), JOBS.length);

    // Totals as the page shows them.
    const kpi = async (key: string) => (await page.locator(`#totals .kpi[data-key="${key}"] b`).textContent())?.trim();
    assert.equal(await kpi('clicks'), json.totals.clicks.toLocaleString('en-US'));
    assert.equal(await kpi('spend'), Number(json.totals.spend).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    assert.equal(await kpi('conversions'), String(json.totals.conversions));

    // Labels once, charts actually laid out.
    const jobLabels = await page.locator('#chart-jobs-spend text').allTextContents();
    assert.ok(jobLabels.includes('Job 644') && !jobLabels.some((l) => /job 644 job 644/i.test(l)), jobLabels.join('|'));
    const box = await page.locator('#chart-trend svg').boundingBox();
    assert.ok(box && box.width > 800 && box.height > 200, `trend chart laid out: ${JSON.stringify(box)}`);

    await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
  } finally {
    await browser.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  assert.deepEqual(problems, [], 'no console errors or warnings');
  assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'self-contained: nothing fetched');
  fs.copyFileSync(htmlPath, path.join(ARTIFACTS, 'report.html'));
});
