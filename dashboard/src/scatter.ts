/**
 * Every candidate of the run on its first two objectives (one point per genotype, at its means over
 * its seeds), coloured by generation, with the current Pareto front drawn as a step line (the
 * boundary of the region it dominates, whatever the objectives' directions) and its members' error
 * bars (± one standard error). A run with a single objective is drawn against the candidates' order.
 */
import { drawAxes, linearScale, paddedDomain, type Frame } from './axes.js';
import { clear, html, svg } from './dom.js';
import { sequentialColor } from './format.js';
import { isSurrogateView, type RunView } from '../../src/core/run-view.js';
import {
  objectiveAxes,
  plottedCandidates,
  withError,
  type ObjectiveAxis,
} from './objective-axes.js';
import { generationLabel } from '../../src/core/generation-label.js';

const FRAME: Frame = { width: 640, height: 500, left: 58, right: 18, top: 16, bottom: 44 };

export interface ScatterPoint {
  readonly index: number;
  readonly generation: number;
  readonly x: number;
  readonly y: number;
  /** One standard error along each axis (0 when the axis is not an objective). */
  readonly ex: number;
  readonly ey: number;
  readonly seeds: number;
  /** Indices of the evaluations (seeds) behind the point. */
  readonly evaluations: readonly number[];
}

/** Directions of the plotted axes: +1 where larger is better, -1 where smaller is. */
export interface AxisSigns {
  readonly x: 1 | -1;
  readonly y: 1 | -1;
}

/**
 * The front's points in drawing order for its step line: from the worst end of x to the best
 * (ties: best y first), so that, with the worst ends of both axes as the line's ends, it bounds
 * the dominated region. The front itself is core's (`currentFront`); this only orders it.
 */
export function stepOrder(
  points: readonly ScatterPoint[],
  signs: AxisSigns = { x: 1, y: 1 },
): ScatterPoint[] {
  return [...points].sort((a, b) => signs.x * (a.x - b.x) || signs.y * (b.y - a.y));
}

/** The scatter's points: the first two objectives' means (or order and the only objective). */
export function scatterPoints(view: RunView): ScatterPoint[] {
  const two = view.run.config.objectives.length >= 2;
  const seedIndices = new Map<string, number[]>();
  for (const e of view.evaluations) {
    if (e.cached) continue;
    seedIndices.set(e.hash, [...(seedIndices.get(e.hash) ?? []), e.index]);
  }
  return plottedCandidates(view).map((c, k) => ({
    index: c.index,
    generation: c.generation,
    x: two ? c.estimate.mean[0]! : k,
    y: two ? c.estimate.mean[1]! : c.estimate.mean[0]!,
    ex: two ? c.estimate.stderr[0]! : 0,
    ey: two ? c.estimate.stderr[1]! : c.estimate.stderr[0]!,
    seeds: c.estimate.seeds,
    evaluations: seedIndices.get(c.estimate.hash) ?? [c.index],
  }));
}

function domainOf(axis: ObjectiveAxis | undefined, values: readonly number[]): [number, number] {
  if (!axis) return paddedDomain(values, 1);
  if (axis.fraction) return paddedDomain(values, 0.1, [0, 1]);
  const [lo, hi] = paddedDomain(values, Math.max(1e-9, Math.max(...values, 0) * 0.1));
  return [Math.max(0, lo), hi];
}

/** Another run's front drawn over this run's points, for comparison. */
export interface OverlayFront {
  readonly runId: string;
  readonly label: string;
  readonly color: string;
  /** Its members' means on the two plotted objectives. */
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface ScatterOptions {
  /** Draw candidates off the front too (default true). */
  readonly showDominated?: boolean;
  readonly overlays?: readonly OverlayFront[];
}

export class ScatterPlot {
  private readonly root: SVGSVGElement;
  private readonly drawn = new Set<number>();

  constructor(
    container: HTMLElement,
    private readonly onSelect: (index: number) => void,
    /** Where the legend goes: below the plot, never over a point. */
    private readonly legend?: HTMLElement,
  ) {
    this.root = svg('svg', {
      viewBox: `0 0 ${FRAME.width} ${FRAME.height}`,
      class: 'chart scatter',
      role: 'img',
      'aria-label': "every candidate on the run's first two objectives",
    });
    container.append(this.root);
    // Selection is delegated to the plot, which is never redrawn: a point is replaced at each
    // redraw (a live run redraws often), and a click whose press and release hit two copies of it
    // would reach neither. The release on a point selects it.
    const pick = (target: EventTarget | null): number | undefined => {
      const el = target instanceof Element ? target.closest('circle.dot') : null;
      const index = el?.getAttribute('data-index');
      return index === null || index === undefined ? undefined : Number(index);
    };
    this.root.addEventListener('pointerup', (ev) => {
      const index = pick(ev.target);
      if (index !== undefined) this.onSelect(index);
    });
    this.root.addEventListener('keydown', (ev) => {
      const index = pick(ev.target);
      if (index !== undefined && (ev.key === 'Enter' || ev.key === ' ')) this.onSelect(index);
    });
  }

  /** Redraws; returns the indices of the evaluations shown for the first time. */
  update(
    view: RunView | undefined,
    selected: number | undefined,
    front: readonly number[],
    options: ScatterOptions = {},
  ): number[] {
    clear(this.root);
    const g = svg('g');
    this.root.append(g);
    if (!view) {
      this.drawn.clear();
      if (this.legend) clear(this.legend);
      return [];
    }
    const all = scatterPoints(view);
    const frontIndices = new Set(front);
    const showDominated = options.showDominated ?? true;
    const overlays = options.overlays ?? [];
    // Hidden dominated points still count as drawn (the page holds them).
    const points = showDominated ? all : all.filter((p) => frontIndices.has(p.index));
    const surrogate = isSurrogateView(view);
    const axes = objectiveAxes(view, surrogate);
    const two = axes.length >= 2;
    const ax = two ? axes[0] : undefined;
    const ay = two ? axes[1]! : axes[0]!;
    const signs: AxisSigns = {
      x: ax?.spec.direction === 'min' ? -1 : 1,
      y: ay.spec.direction === 'min' ? -1 : 1,
    };
    const overlayPoints = overlays.flatMap((o) => o.points);
    const x = linearScale(
      domainOf(ax, [
        ...points.flatMap((p) => [p.x - p.ex, p.x + p.ex]),
        ...overlayPoints.map((p) => p.x),
      ]),
      [FRAME.left, FRAME.width - FRAME.right],
    );
    const y = linearScale(
      domainOf(ay, [
        ...points.flatMap((p) => [p.y - p.ey, p.y + p.ey]),
        ...overlayPoints.map((p) => p.y),
      ]),
      [FRAME.height - FRAME.bottom, FRAME.top],
    );
    drawAxes(
      g,
      FRAME,
      x,
      y,
      { x: ax ? ax.title : 'candidate (in order)', y: ay.title },
      (v) => ay.format(v),
      (v) => (ax ? ax.format(v) : String(Math.round(v))),
    );

    const frontSet = new Set(front);
    const frontPoints = points.filter((p) => frontSet.has(p.index));
    const steps = two ? stepOrder(frontPoints, signs) : [];
    if (steps.length > 0) {
      const worstX = signs.x > 0 ? x.domain[0] : x.domain[1];
      const worstY = signs.y > 0 ? y.domain[0] : y.domain[1];
      const first = steps[0]!;
      let d = `M ${x(worstX)} ${y(first.y)} L ${x(first.x)} ${y(first.y)}`;
      for (let i = 1; i < steps.length; i++) {
        const p = steps[i]!;
        const prev = steps[i - 1]!;
        d += ` L ${x(prev.x)} ${y(p.y)} L ${x(p.x)} ${y(p.y)}`;
      }
      const last = steps[steps.length - 1]!;
      d += ` L ${x(last.x)} ${y(worstY)}`;
      g.append(svg('path', { class: 'front-line', d, 'data-front-size': steps.length }));
    }

    // Other runs' fronts, for comparison: hollow diamonds joined by their own staircase.
    if (two) {
      for (const o of overlays) {
        const pts = stepOrder(
          o.points.map((p, i) => ({
            index: i,
            generation: 0,
            x: p.x,
            y: p.y,
            ex: 0,
            ey: 0,
            seeds: 0,
            evaluations: [],
          })),
          signs,
        );
        const layer = svg('g', { class: 'overlay', 'data-run-id': o.runId });
        if (pts.length > 0) {
          const d = pts
            .map((p, i) => {
              const prev = pts[i - 1];
              return i === 0
                ? `M ${x(p.x)} ${y(p.y)}`
                : `L ${x(prev!.x)} ${y(p.y)} L ${x(p.x)} ${y(p.y)}`;
            })
            .join(' ');
          layer.append(svg('path', { d, class: 'overlay-line', stroke: o.color }));
        }
        for (const p of pts) {
          const cx = x(p.x);
          const cy = y(p.y);
          layer.append(
            svg(
              'path',
              {
                d: `M ${cx} ${cy - 5} L ${cx + 5} ${cy} L ${cx} ${cy + 5} L ${cx - 5} ${cy} Z`,
                class: 'overlay-dot',
                stroke: o.color,
              },
              [svg('title', {}, [o.label])],
            ),
          );
        }
        g.append(layer);
      }
    }

    // Error bars of the front's members: ± one standard error on each plotted objective.
    const bars = svg('g', { class: 'error-bars' });
    for (const p of frontPoints) {
      const bar = svg('g', { class: 'error-bar', 'data-index': p.index, 'data-seeds': p.seeds });
      if (p.ex > 0) {
        bar.append(
          svg('line', {
            class: 'error-x',
            x1: x(p.x - p.ex).toFixed(1),
            x2: x(p.x + p.ex).toFixed(1),
            y1: y(p.y).toFixed(1),
            y2: y(p.y).toFixed(1),
          }),
        );
      }
      if (p.ey > 0) {
        bar.append(
          svg('line', {
            class: 'error-y',
            x1: x(p.x).toFixed(1),
            x2: x(p.x).toFixed(1),
            y1: y(p.y - p.ey).toFixed(1),
            y2: y(p.y + p.ey).toFixed(1),
          }),
        );
      }
      bars.append(bar);
    }
    g.append(bars);

    const maxGen = Math.max(1, ...all.map((p) => p.generation));
    const fresh: number[] = [];
    const dots = svg('g', { class: 'dots' });
    const sorted = [...points].sort(
      (a, b) => Number(frontSet.has(a.index)) - Number(frontSet.has(b.index)),
    );
    for (const p of sorted) {
      const onFront = frontSet.has(p.index);
      const figures = two
        ? `${axes[0]!.key} ${withError(axes[0]!, p.x, p.ex)}, ${axes[1]!.key} ${withError(axes[1]!, p.y, p.ey)}`
        : `${ay.key} ${withError(ay, p.y, p.ey)}`;
      const c = svg(
        'circle',
        {
          cx: x(p.x).toFixed(1),
          cy: y(p.y).toFixed(1),
          r: onFront ? 6 : 4.5,
          fill: sequentialColor(p.generation / maxGen),
          class: `dot${onFront ? ' on-front' : ''}${p.index === selected ? ' selected' : ''}`,
          'data-index': p.index,
          'data-generation': p.generation,
          'data-seeds': p.seeds,
          tabindex: 0,
        },
        [
          svg('title', {}, [
            `#${p.index} (${generationLabel(p.generation)}, ${p.seeds} seed${p.seeds === 1 ? '' : 's'})\n${figures}`,
          ]),
        ],
      );
      dots.append(c);
    }
    for (const p of all) {
      for (const e of p.evaluations) {
        if (!this.drawn.has(e)) {
          this.drawn.add(e);
          fresh.push(e);
        }
      }
    }
    g.append(dots);
    this.drawLegend(maxGen, overlays, all.length - points.length);
    return fresh;
  }

  /** Forgets which points were drawn (when another run is shown). */
  reset(): void {
    this.drawn.clear();
  }

  /**
   * The legend below the plot (HTML, never over a point): the generation colours, the compared
   * runs' fronts, and how many dominated points are hidden.
   */
  private drawLegend(maxGen: number, overlays: readonly OverlayFront[], hidden: number): void {
    if (!this.legend) return;
    clear(this.legend);
    const stops = [0, 1, 2, 3, 4].map((i) => `${sequentialColor(i / 4)} ${i * 25}%`).join(', ');
    this.legend.append(
      html('span', { class: 'legend-item' }, [
        'generation 0',
        html('span', {
          class: 'gradient',
          style: `background: linear-gradient(to right, ${stops})`,
        }),
        String(maxGen),
      ]),
    );
    for (const o of overlays) {
      this.legend.append(
        html('span', { class: 'legend-item', 'data-run-id': o.runId }, [
          html('span', { class: 'swatch', style: `border-color: ${o.color}` }),
          `front of ${o.label}`,
        ]),
      );
    }
    if (hidden > 0) {
      this.legend.append(
        html('span', { class: 'legend-item muted' }, [`${hidden} dominated points hidden`]),
      );
    }
  }
}
