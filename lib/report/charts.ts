/**
 * Inline SVG charts for the HTML report: pure string builders, no script, nothing fetched. Every data
 * mark carries class="mark" and data-value, so a test (or a reader's devtools) can check it against the data.
 */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

export interface Series {
  name: string;
  color: string;
  /** One value per x position; null is a gap (e.g. cost per conversion of an hour without conversions). */
  values: Array<number | null>;
}

export interface LineChartOptions {
  width?: number;
  height?: number;
  /** Axis text for a y value. */
  format?: (v: number) => string;
  /** Index of the x labels to print (others are ticks only). */
  labelEvery?: number;
}

/** Rounds a maximum up to 1, 2 or 5 times a power of ten, so the axis reads easily. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function yAxis(top: number, plotH: number, left: number, plotW: number, max: number, format: (v: number) => string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = top + plotH - f * plotH;
    return `<line x1="${left}" x2="${left + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/><text x="${left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${escapeXml(format(max * f))}</text>`;
  });
  return ticks.join('');
}

function xAxis(labels: string[], x: (i: number) => number, bottom: number, every: number): string {
  const out: string[] = [];
  labels.forEach((l, i) => {
    if (i % every !== 0) return;
    out.push(`<text x="${x(i).toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${escapeXml(l)}</text>`);
  });
  return out.join('');
}

/** A polyline per series with a circle per defined point; gaps break the line. */
function seriesPath(s: Series, x: (i: number) => number, y: (v: number) => number, labels: string[]): string {
  const segments: string[][] = [[]];
  const marks: string[] = [];
  s.values.forEach((v, i) => {
    if (v === null) {
      if (segments[segments.length - 1]!.length) segments.push([]);
      return;
    }
    segments[segments.length - 1]!.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    marks.push(
      `<circle class="mark" data-series="${escapeXml(s.name)}" data-x="${escapeXml(labels[i] ?? '')}" data-value="${v}" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeXml(`${labels[i]}: ${v}`)}</title></circle>`,
    );
  });
  const lines = segments.filter((p) => p.length > 1).map((p) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${p.join(' ')}"/>`);
  return lines.join('') + marks.join('');
}

function legend(series: Series[], left: number): string {
  return series
    .map((s, i) => `<rect x="${left + i * 150}" y="4" width="12" height="12" fill="${s.color}"/><text x="${left + i * 150 + 18}" y="14">${escapeXml(s.name)}</text>`)
    .join('');
}

/** A line chart over shared x labels (hours or days), one or more series on one y axis from zero. */
export function svgLines(labels: string[], series: Series[], opts: LineChartOptions = {}): string {
  const width = opts.width ?? 900;
  const height = opts.height ?? 240;
  const [left, right, top, bottom] = [70, 60, 26, height - 28];
  const plotW = width - left - right;
  const plotH = bottom - top;
  const format = opts.format ?? ((v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1)));
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const x = (i: number) => left + (labels.length > 1 ? (i * plotW) / (labels.length - 1) : plotW / 2);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const every = opts.labelEvery ?? Math.max(1, Math.ceil(labels.length / 8));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart line" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img">` +
    yAxis(top, plotH, left, plotW, max, format) +
    xAxis(labels, x, bottom, every) +
    series.map((s) => seriesPath(s, x, y, labels)).join('') +
    legend(series, left) +
    '</svg>'
  );
}

export interface Bar {
  label: string;
  value: number;
  text?: string;
}

/** Horizontal bars scaled to the largest value, one label per bar. */
export function svgBars(items: Bar[], opts: { width?: number; color?: string } = {}): string {
  const width = opts.width ?? 640;
  const [barH, gap, labelW, valueW] = [18, 6, 200, 90];
  const max = Math.max(0, ...items.map((i) => i.value));
  const height = Math.max(1, items.length) * (barH + gap) + gap;
  const span = width - labelW - valueW;
  const bars = items.map((it, i) => {
    const y = gap + i * (barH + gap);
    const w = max > 0 ? Math.max(it.value > 0 ? 1 : 0, Math.round((it.value / max) * span)) : 0;
    const label = it.label.length > 30 ? `${it.label.slice(0, 29)}…` : it.label;
    return (
      `<text x="${labelW - 6}" y="${y + barH - 5}" text-anchor="end">${escapeXml(label)}</text>` +
      `<rect class="mark" data-label="${escapeXml(it.label)}" data-value="${it.value}" x="${labelW}" y="${y}" width="${w}" height="${barH}" fill="${opts.color ?? '#3b6ea5'}"/>` +
      `<text x="${labelW + w + 6}" y="${y + barH - 5}">${escapeXml(it.text ?? String(it.value))}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart bars" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">${bars.join('')}</svg>`;
}
