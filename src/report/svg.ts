/**
 * Inline SVG charts for the HTML report, with no library and no script: a line chart (several series over
 * one x axis) and a bar chart with 95% interval whiskers. Output is a string of `<svg>` markup; every
 * text is escaped. Sizes are in CSS pixels.
 */

export interface Series { name: string; points: [number, number][] }
export interface Bar { label: string; value: number; lo?: number; hi?: number; color?: string }

const W = 560, H = 240;
const M = { left: 56, right: 12, top: 28, bottom: 40 };
/** The charts' styles (the report page holds them once; a standalone SVG file carries its own copy). */
export const CHART_CSS = `.chart .title{font-size:13px;font-weight:600}.chart .tick,.chart .legend text,.chart .value{font-size:10px;fill:#444}
.chart .axis-label{font-size:11px;fill:#333}.chart .grid{stroke:#eee}.chart .plot{stroke:#999}`;

/** A chart as a file of its own: its styles inside, a white background. */
export function standaloneSvg(chart: string): string {
  const open = chart.indexOf('>') + 1;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${chart.slice(0, open)}<style>text{font-family:sans-serif}${CHART_CSS}</style>`
    + `<rect width="100%" height="100%" fill="#fff"/>${chart.slice(open)}\n`;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `n` round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** [lo, hi] of the finite values, widened when flat so that a constant series still draws. */
function extent(vs: number[]): [number, number] {
  const f = vs.filter(Number.isFinite);
  if (!f.length) return [0, 1];
  let lo = Math.min(...f), hi = Math.max(...f);
  if (lo === hi) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
  return [lo, hi];
}

function frame(title: string, xLabel: string, yLabel: string, body: string[], legend: string): string {
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`
    + `<text x="${W / 2}" y="16" text-anchor="middle" class="title">${esc(title)}</text>`
    + body.join('')
    + `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" text-anchor="middle" class="axis-label">${esc(xLabel)}</text>`
    + `<text transform="translate(12 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${esc(yLabel)}</text>`
    + legend + '</svg>';
}

function legendBox(names: { name: string; color: string }[]): string {
  const items = names.map((n, i) => `<g class="legend-item" transform="translate(${M.left + 8} ${M.top + 6 + i * 14})">`
    + `<rect width="10" height="10" fill="${n.color}"/><text x="14" y="9">${esc(n.name)}</text></g>`);
  const w = 24 + 7 * Math.max(0, ...names.map((n) => n.name.length));
  return `<g class="legend"><rect x="${M.left + 4}" y="${M.top + 2}" width="${w}" height="${names.length * 14 + 6}" fill="#fff" fill-opacity="0.85"/>${items.join('')}</g>`;
}

/** A line chart; points with a non-finite y break the line. `yRange` fixes the y axis (e.g. [0, 1] for rates). */
export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; yRange?: [number, number] }): string {
  const all = o.series.flatMap((s) => s.points);
  const [x0, x1] = extent(all.map((p) => p[0]));
  const [y0, y1] = o.yRange ?? extent(all.map((p) => p[1]));
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const body: string[] = [];
  for (const t of ticks(y0, y1)) {
    body.push(`<line class="grid" x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/>`
      + `<text class="tick" x="${M.left - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of ticks(x0, x1)) {
    body.push(`<text class="tick" x="${sx(t).toFixed(1)}" y="${M.top + ph + 14}" text-anchor="middle">${fmt(t)}</text>`);
  }
  body.push(`<rect class="plot" x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none"/>`);
  const named = o.series.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length] }));
  o.series.forEach((s, i) => {
    let d = '', pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y) || !Number.isFinite(x)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`;
      pen = true;
    }
    body.push(`<path class="series" data-series="${esc(s.name)}" data-points="${s.points.length}" d="${d}" fill="none" stroke="${named[i].color}" stroke-width="1.8"/>`);
    if (s.points.length === 1 && d) body.push(`<circle cx="${sx(s.points[0][0]).toFixed(1)}" cy="${sy(s.points[0][1]).toFixed(1)}" r="3" fill="${named[i].color}"/>`);
  });
  return frame(o.title, o.xLabel, o.yLabel, body, legendBox(named));
}

/** Vertical bars with optional [lo, hi] whiskers (95% intervals). */
export function barChart(o: { title: string; yLabel: string; bars: Bar[]; yRange?: [number, number] }): string {
  const vals = o.bars.flatMap((b) => [b.value, b.lo ?? b.value, b.hi ?? b.value, 0]);
  const [y0, top] = o.yRange ?? extent(vals);
  const y1 = o.yRange ? top : top + 0.12 * (top - y0); // headroom for the value labels
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const sy = (y: number) => M.top + ph - ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph;
  const slot = pw / Math.max(o.bars.length, 1), bw = Math.min(60, slot * 0.6);
  const body: string[] = [];
  for (const t of ticks(y0, y1)) {
    body.push(`<line class="grid" x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/>`
      + `<text class="tick" x="${M.left - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  body.push(`<rect class="plot" x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none"/>`);
  o.bars.forEach((b, i) => {
    const cx = M.left + slot * (i + 0.5), base = sy(Math.max(0, y0)), top = sy(b.value);
    const color = b.color ?? PALETTE[i % PALETTE.length];
    body.push(`<rect class="bar" data-label="${esc(b.label)}" data-value="${b.value}" x="${(cx - bw / 2).toFixed(1)}" y="${Math.min(base, top).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.max(Math.abs(base - top), 0.5).toFixed(1)}" fill="${color}"/>`);
    if (b.lo !== undefined && b.hi !== undefined && Number.isFinite(b.lo) && Number.isFinite(b.hi)) {
      const l = sy(b.lo).toFixed(1), h = sy(b.hi).toFixed(1);
      body.push(`<path class="ci" d="M${cx.toFixed(1)} ${l}L${cx.toFixed(1)} ${h}M${(cx - 6).toFixed(1)} ${l}L${(cx + 6).toFixed(1)} ${l}M${(cx - 6).toFixed(1)} ${h}L${(cx + 6).toFixed(1)} ${h}" stroke="#222" stroke-width="1.5" fill="none"/>`);
    }
    body.push(`<text class="tick" x="${cx.toFixed(1)}" y="${M.top + ph + 14}" text-anchor="middle">${esc(b.label)}</text>`);
    body.push(`<text class="value" x="${cx.toFixed(1)}" y="${(Math.min(base, top) - 4).toFixed(1)}" text-anchor="middle">${fmt(b.value)}</text>`);
  });
  return frame(o.title, '', o.yLabel, body, '');
}
