/**
 * Clean against adversarial score of every evaluated candidate, coloured by generation, with the
 * current Pareto front drawn as a step line (the boundary of the region it dominates).
 */
import type { EvaluationRecord } from '../../src/core/events.js';
import { drawAxes, linearScale, paddedDomain, type Frame } from './axes.js';
import { clear, svg } from './dom.js';
import { attackLabel, score, sequentialColor } from './format.js';
import { isSurrogateView, type RunView } from '../../src/core/run-view.js';

const FRAME: Frame = { width: 640, height: 500, left: 58, right: 18, top: 16, bottom: 44 };

export interface ScatterPoint {
  readonly index: number;
  readonly generation: number;
  readonly x: number;
  readonly y: number;
}

export function scatterPoints(records: readonly EvaluationRecord[]): ScatterPoint[] {
  const out: ScatterPoint[] = [];
  for (const r of records) {
    const s = r.scores;
    const adv = s?.adversarial[0];
    if (r.status !== 'finished' || !s || !adv) continue;
    out.push({ index: r.index, generation: r.generation, x: s.clean.accuracy, y: adv.accuracy });
  }
  return out;
}

/**
 * The front's points in drawing order for its step line: by x ascending, then y descending. The
 * front itself is core's (`currentFront`), on the run's objectives; this only orders it.
 */
export function stepOrder(points: readonly ScatterPoint[]): ScatterPoint[] {
  return [...points].sort((a, b) => a.x - b.x || b.y - a.y);
}

export interface AttackInfo {
  readonly name?: string;
  readonly eps?: number;
}

export function firstAttack(config: unknown): AttackInfo {
  const c = config as { evaluation?: { attacks?: { name?: string; eps?: number }[] } } | null;
  const a = c?.evaluation?.attacks?.[0];
  return a ? { name: a.name, eps: a.eps } : { name: 'pgd', eps: undefined };
}

export class ScatterPlot {
  private readonly root: SVGSVGElement;
  private readonly drawn = new Set<number>();

  constructor(
    container: HTMLElement,
    private readonly onSelect: (index: number) => void,
  ) {
    this.root = svg('svg', {
      viewBox: `0 0 ${FRAME.width} ${FRAME.height}`,
      class: 'chart scatter',
      role: 'img',
      'aria-label': 'clean against adversarial score of every candidate',
    });
    container.append(this.root);
  }

  /** Redraws; returns the indices of points drawn for the first time. */
  update(
    view: RunView | undefined,
    selected: number | undefined,
    front: readonly number[],
  ): number[] {
    clear(this.root);
    const g = svg('g');
    this.root.append(g);
    if (!view) {
      this.drawn.clear();
      return [];
    }
    const points = scatterPoints(view.evaluations);
    const surrogate = isSurrogateView(view);
    const attack = firstAttack(view.run.config);
    const what = surrogate ? 'surrogate score' : 'accuracy';
    const x = linearScale(
      paddedDomain(
        points.map((p) => p.x),
        0.1,
        [0, 1],
      ),
      [FRAME.left, FRAME.width - FRAME.right],
    );
    const y = linearScale(
      paddedDomain(
        points.map((p) => p.y),
        0.1,
        [0, 1],
      ),
      [FRAME.height - FRAME.bottom, FRAME.top],
    );
    const fmt = (v: number) => (surrogate ? v.toFixed(2) : `${Math.round(v * 1000) / 10}%`);
    drawAxes(
      g,
      FRAME,
      x,
      y,
      {
        x: `clean ${what}${surrogate ? ' (surrogate)' : ''}`,
        y: `${attackLabel(attack.name, attack.eps)} ${what}${surrogate ? ' (surrogate)' : ''}`,
      },
      fmt,
    );

    const frontSet = new Set(front);
    const frontPoints = points.filter((p) => frontSet.has(p.index));
    const steps = stepOrder(frontPoints);
    if (steps.length > 0) {
      const first = steps[0] as ScatterPoint;
      let d = `M ${x(x.domain[0])} ${y(first.y)} L ${x(first.x)} ${y(first.y)}`;
      for (let i = 1; i < steps.length; i++) {
        const p = steps[i] as ScatterPoint;
        const prev = steps[i - 1] as ScatterPoint;
        d += ` L ${x(prev.x)} ${y(p.y)} L ${x(p.x)} ${y(p.y)}`;
      }
      const last = steps[steps.length - 1] as ScatterPoint;
      d += ` L ${x(last.x)} ${y(y.domain[0])}`;
      g.append(svg('path', { class: 'front-line', d, 'data-front-size': steps.length }));
    }

    const maxGen = Math.max(1, ...points.map((p) => p.generation));
    const fresh: number[] = [];
    const dots = svg('g', { class: 'dots' });
    const sorted = [...points].sort(
      (a, b) => Number(frontSet.has(a.index)) - Number(frontSet.has(b.index)),
    );
    for (const p of sorted) {
      const onFront = frontSet.has(p.index);
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
          tabindex: 0,
        },
        [
          svg('title', {}, [
            `#${p.index} (generation ${p.generation})\nclean ${score(p.x, surrogate)}, adversarial ${score(p.y, surrogate)}`,
          ]),
        ],
      );
      c.addEventListener('click', () => this.onSelect(p.index));
      c.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') this.onSelect(p.index);
      });
      dots.append(c);
      if (!this.drawn.has(p.index)) {
        this.drawn.add(p.index);
        fresh.push(p.index);
      }
    }
    g.append(dots);
    this.drawLegend(g, maxGen);
    return fresh;
  }

  /** Forgets which points were drawn (when another run is shown). */
  reset(): void {
    this.drawn.clear();
  }

  private drawLegend(g: SVGGElement, maxGen: number): void {
    const w = 120;
    // Top right: the corner a trade-off front never reaches (it would dominate everything).
    const x0 = FRAME.width - FRAME.right - w - 8;
    const y0 = FRAME.top + 24;
    const id = 'gen-gradient';
    const grad = svg('linearGradient', { id, x1: 0, x2: 1, y1: 0, y2: 0 });
    for (let i = 0; i <= 4; i++) {
      grad.append(svg('stop', { offset: `${i * 25}%`, 'stop-color': sequentialColor(i / 4) }));
    }
    g.append(svg('defs', {}, [grad]));
    g.append(
      svg('rect', { x: x0 - 6, y: y0 - 16, width: w + 12, height: 40, class: 'legend-bg', rx: 4 }),
    );
    g.append(svg('text', { x: x0, y: y0 - 4, class: 'legend' }, ['generation']));
    g.append(svg('rect', { x: x0, y: y0, width: w, height: 8, fill: `url(#${id})`, rx: 2 }));
    g.append(svg('text', { x: x0, y: y0 + 20, class: 'legend' }, ['0']));
    g.append(
      svg('text', { x: x0 + w, y: y0 + 20, class: 'legend', 'text-anchor': 'end' }, [
        String(maxGen),
      ]),
    );
  }
}
