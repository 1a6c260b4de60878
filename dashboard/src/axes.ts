/** Linear scales, "nice" ticks and SVG axes for the dashboard's charts. */
import { svg } from './dom.js';

export interface Scale {
  (v: number): number;
  readonly domain: readonly [number, number];
}

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale & {
    domain: readonly [number, number];
  };
  Object.defineProperty(f, 'domain', { value: domain });
  return f;
}

export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** A domain around `values` with some padding, at least `minSpan` wide, clamped to [lo, hi]. */
export function paddedDomain(
  values: readonly number[],
  minSpan: number,
  clampTo?: [number, number],
): [number, number] {
  if (values.length === 0) return clampTo ?? [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = Math.max((hi - lo) * 0.08, minSpan / 2 - (hi - lo) / 2, 1e-9);
  lo -= pad;
  hi += pad;
  if (clampTo) {
    if (lo < clampTo[0]) {
      hi = Math.min(clampTo[1], hi + (clampTo[0] - lo));
      lo = clampTo[0];
    }
    if (hi > clampTo[1]) {
      lo = Math.max(clampTo[0], lo - (hi - clampTo[1]));
      hi = clampTo[1];
    }
  }
  return [lo, hi];
}

export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** Draws both axes with ticks, grid lines and labels into `g`. */
export function drawAxes(
  g: SVGGElement,
  frame: Frame,
  x: Scale,
  y: Scale,
  labels: { x: string; y: string },
  format: (v: number) => string,
  formatX: (v: number) => string = format,
): void {
  const x0 = frame.left;
  const x1 = frame.width - frame.right;
  const y0 = frame.height - frame.bottom;
  const y1 = frame.top;
  for (const t of niceTicks(x.domain[0], x.domain[1], 6)) {
    const px = x(t);
    g.append(svg('line', { class: 'grid', x1: px, x2: px, y1: y0, y2: y1 }));
    g.append(
      svg('text', { class: 'tick', x: px, y: y0 + 16, 'text-anchor': 'middle' }, [formatX(t)]),
    );
  }
  for (const t of niceTicks(y.domain[0], y.domain[1], 5)) {
    const py = y(t);
    g.append(svg('line', { class: 'grid', x1: x0, x2: x1, y1: py, y2: py }));
    g.append(
      svg('text', { class: 'tick', x: x0 - 6, y: py + 4, 'text-anchor': 'end' }, [format(t)]),
    );
  }
  g.append(svg('line', { class: 'axis', x1: x0, x2: x1, y1: y0, y2: y0 }));
  g.append(svg('line', { class: 'axis', x1: x0, x2: x0, y1: y0, y2: y1 }));
  g.append(
    svg(
      'text',
      { class: 'axis-label', x: (x0 + x1) / 2, y: frame.height - 6, 'text-anchor': 'middle' },
      [labels.x],
    ),
  );
  g.append(
    svg(
      'text',
      {
        class: 'axis-label',
        transform: `translate(14 ${(y0 + y1) / 2}) rotate(-90)`,
        'text-anchor': 'middle',
      },
      [labels.y],
    ),
  );
}
