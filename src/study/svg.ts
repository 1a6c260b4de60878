/**
 * Small self-contained SVG charts for the study's report (no scripts, no external references):
 * lines with error bands, grouped bars with error bars, and a scatter with a log x axis. Text is
 * escaped; every chart has a title and axis labels.
 */

export interface Point {
  readonly x: number;
  readonly y: number;
  /** Half-width of the error band or bar (same unit as y). */
  readonly err?: number;
}

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly Point[];
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  readonly logX?: boolean;
  readonly yMin?: number;
  readonly yMax?: number;
}

export const FAMILY_COLORS: Readonly<Record<string, string>> = {
  nas: '#1f77b4',
  handcrafted: '#d62728',
  random: '#7f7f7f',
  ensemble: '#2ca02c',
};

export function escapeXml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

const M = { left: 56, right: 150, top: 30, bottom: 44 };

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(+v.toPrecision(12));
  }
  return ticks;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toExponential(0) : `${+v.toPrecision(3)}`);

interface Frame {
  readonly sx: (x: number) => number;
  readonly sy: (y: number) => number;
  readonly parts: string[];
  readonly w: number;
  readonly h: number;
}

function frame(all: readonly Point[], o: ChartOptions, xTicks?: readonly number[]): Frame {
  const w = o.width ?? 480;
  const h = o.height ?? 280;
  const tx = (x: number) => (o.logX ? Math.log10(Math.max(x, 1e-12)) : x);
  const xs = all.map((p) => tx(p.x));
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (!(x1 > x0)) {
    x0 -= 1;
    x1 += 1;
  }
  const pad = (x1 - x0) * 0.05;
  x0 -= pad;
  x1 += pad;
  const ys = all.flatMap((p) => [p.y - (p.err ?? 0), p.y + (p.err ?? 0)]);
  let y0 = o.yMin ?? Math.min(0, ...ys);
  let y1 = o.yMax ?? Math.max(...ys);
  if (!(y1 > y0)) y1 = y0 + 1;
  if (o.yMin === undefined && o.yMax === undefined) {
    const p = (y1 - y0) * 0.05;
    y1 += p;
    if (y0 < 0) y0 -= p;
  }
  const pw = w - M.left - M.right;
  const ph = h - M.top - M.bottom;
  const sx = (x: number) => M.left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => M.top + (1 - (y - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`,
    `<text x="${w / 2 - M.right / 2 + M.left / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`,
    `<text x="${M.left + pw / 2}" y="${h - 8}" text-anchor="middle" font-size="11">${escapeXml(o.xLabel)}</text>`,
    `<text x="14" y="${M.top + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${M.top + ph / 2})">${escapeXml(o.yLabel)}</text>`,
  );
  for (const t of niceTicks(y0, y1)) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${M.left - 4}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(t)}</text>`,
    );
  }
  const xt = xTicks ?? (o.logX ? niceTicks(x0, x1).map((e) => 10 ** e) : niceTicks(x0, x1));
  for (const t of xt) {
    const x = sx(t);
    if (x < M.left - 1 || x > M.left + pw + 1) continue;
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#999"/>`,
      `<text x="${x.toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="10">${fmt(t)}</text>`,
    );
  }
  return { sx, sy, parts, w, h };
}

function legend(f: Frame, series: readonly { label: string; color: string }[]): void {
  series.forEach((s, i) => {
    const y = M.top + 10 + i * 16;
    const x = f.w - M.right + 10;
    f.parts.push(
      `<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${x + 14}" y="${y + 1}" font-size="11">${escapeXml(s.label)}</text>`,
    );
  });
}

function wrap(f: Frame, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${f.w}" height="${f.h}" viewBox="0 0 ${f.w} ${f.h}" role="img" aria-label="${escapeXml(title)}" font-family="sans-serif">${f.parts.join('')}</svg>`;
}

/** Points whose error is not a finite number (one seed: no standard error) get no band or bar. */
function clean(series: readonly Series[]): Series[] {
  return series.map((s) => ({
    ...s,
    points: s.points
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
      .map((p) => ({ x: p.x, y: p.y, err: Number.isFinite(p.err) ? (p.err as number) : 0 })),
  }));
}

/** Lines with a shaded band of ±err around each. */
export function lineChart(input: readonly Series[], o: ChartOptions): string {
  const series = clean(input);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return emptyChart(o);
  const xTicks = [...new Set(all.map((p) => p.x))].sort((a, b) => a - b);
  const f = frame(all, o, xTicks);
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    const upper = pts.map((p) => `${f.sx(p.x).toFixed(1)},${f.sy(p.y + (p.err ?? 0)).toFixed(1)}`);
    const lower = pts
      .map((p) => `${f.sx(p.x).toFixed(1)},${f.sy(p.y - (p.err ?? 0)).toFixed(1)}`)
      .reverse();
    f.parts.push(
      `<polygon points="${[...upper, ...lower].join(' ')}" fill="${s.color}" fill-opacity="0.15" stroke="none"/>`,
      `<polyline points="${pts.map((p) => `${f.sx(p.x).toFixed(1)},${f.sy(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`,
      ...pts.map(
        (p) =>
          `<circle cx="${f.sx(p.x).toFixed(1)}" cy="${f.sy(p.y).toFixed(1)}" r="2.5" fill="${s.color}"/>`,
      ),
    );
  }
  legend(f, series);
  return wrap(f, o.title);
}

/** Points with vertical error bars, one colour per series (a scatter). */
export function scatterChart(input: readonly Series[], o: ChartOptions): string {
  const series = clean(input);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return emptyChart(o);
  const f = frame(all, o);
  for (const s of series) {
    for (const p of s.points) {
      const x = f.sx(p.x).toFixed(1);
      if (p.err) {
        f.parts.push(
          `<line x1="${x}" x2="${x}" y1="${f.sy(p.y - p.err).toFixed(1)}" y2="${f.sy(p.y + p.err).toFixed(1)}" stroke="${s.color}"/>`,
        );
      }
      f.parts.push(`<circle cx="${x}" cy="${f.sy(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    }
  }
  legend(f, series);
  return wrap(f, o.title);
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly err: number;
  readonly color: string;
}

/** One bar per entry with its error bar; labels under the bars, rotated. */
export function barChart(
  input: readonly Bar[],
  o: ChartOptions,
  legendItems: readonly { label: string; color: string }[],
): string {
  const bars = input.map((b) => ({
    ...b,
    value: Number.isFinite(b.value) ? b.value : 0,
    err: Number.isFinite(b.err) ? b.err : 0,
  }));
  const w = o.width ?? Math.max(480, 40 + bars.length * 34 + M.left + M.right);
  const h = o.height ?? 320;
  const pw = w - M.left - M.right;
  const bottom = 90;
  const ph = h - M.top - bottom;
  const y1 = o.yMax ?? Math.max(1e-9, ...bars.map((b) => b.value + b.err)) * 1.05;
  const sy = (y: number) => M.top + (1 - y / y1) * ph;
  const parts: string[] = [
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`,
    `<text x="${M.left + pw / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`,
    `<text x="14" y="${M.top + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 14 ${M.top + ph / 2})">${escapeXml(o.yLabel)}</text>`,
  ];
  for (const t of niceTicks(0, y1)) {
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${M.left - 4}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(t)}</text>`,
    );
  }
  const slot = pw / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const x = M.left + i * slot + slot * 0.15;
    const bw = slot * 0.7;
    const top = sy(Math.max(0, b.value));
    const cx = (x + bw / 2).toFixed(1);
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(M.top + ph - top).toFixed(1)}" fill="${b.color}"/>`,
      `<line x1="${cx}" x2="${cx}" y1="${sy(Math.max(0, b.value - b.err)).toFixed(1)}" y2="${sy(b.value + b.err).toFixed(1)}" stroke="#000"/>`,
      `<text x="${cx}" y="${M.top + ph + 10}" font-size="10" text-anchor="end" transform="rotate(-45 ${cx} ${M.top + ph + 10})">${escapeXml(b.label)}</text>`,
    );
  });
  const f: Frame = { sx: (x) => x, sy, parts, w, h };
  legend(f, legendItems);
  return wrap(f, o.title);
}

function emptyChart(o: ChartOptions): string {
  const w = o.width ?? 480;
  const h = o.height ?? 120;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif"><text x="${w / 2}" y="${h / 2}" text-anchor="middle" font-size="12">${escapeXml(o.title)}: no results yet</text></svg>`;
}
