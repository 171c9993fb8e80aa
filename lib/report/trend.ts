import type { HourRow } from './format';

export interface TrendBucket {
  /** `YYYY-MM-DD HH:00` for hours, `YYYY-MM-DD` for days (UTC). */
  label: string;
  clicks: number;
  conversions: number;
  spend: number;
  conversionRate: number | null;
  costPerConversion: number | null;
}

export interface Trend {
  granularity: 'hour' | 'day';
  buckets: TrendBucket[];
}

const HOUR_MS = 3_600_000;
/** Beyond two weeks of hours a line has too many points to read: days instead. */
export const MAX_HOURLY_BUCKETS = 14 * 24;

function hourMs(r: Pick<HourRow, 'dates' | 'hours'>): number {
  return Date.parse(`${r.dates}T00:00:00Z`) + r.hours * HOUR_MS;
}

function finish(label: string, clicks: number, conversions: number, spend: number): TrendBucket {
  return {
    label,
    clicks,
    conversions,
    spend: Math.round(spend * 100) / 100,
    conversionRate: clicks > 0 ? Math.round((conversions / clicks) * 1e6) / 1e6 : null,
    costPerConversion: conversions > 0 ? Math.round((spend / conversions) * 100) / 100 : null,
  };
}

/**
 * The trend as continuous buckets from the first to the last hour with data (an hour or day without
 * events is a zero, not a missing point), hourly up to two weeks, daily beyond.
 */
export function buildTrend(rows: readonly HourRow[]): Trend {
  if (!rows.length) return { granularity: 'hour', buckets: [] };
  const times = rows.map(hourMs);
  const first = Math.min(...times);
  const last = Math.max(...times);
  const daily = (last - first) / HOUR_MS + 1 > MAX_HOURLY_BUCKETS;
  const step = daily ? 24 * HOUR_MS : HOUR_MS;
  const start = daily ? first - (first % (24 * HOUR_MS)) : first;
  const n = Math.floor((last - start) / step) + 1;
  const acc = Array.from({ length: n }, () => ({ clicks: 0, conversions: 0, spend: 0 }));
  rows.forEach((r, i) => {
    const b = acc[Math.floor((times[i]! - start) / step)]!;
    b.clicks += r.clicks;
    b.conversions += r.conversions;
    b.spend += Number(r.spend);
  });
  const label = (t: number) => (daily ? new Date(t).toISOString().slice(0, 10) : `${new Date(t).toISOString().slice(0, 13).replace('T', ' ')}:00`);
  return { granularity: daily ? 'day' : 'hour', buckets: acc.map((b, i) => finish(label(start + i * step), b.clicks, b.conversions, b.spend)) };
}
