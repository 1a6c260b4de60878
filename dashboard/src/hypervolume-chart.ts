/**
 * Hypervolume of the front against the number of evaluations or against wall-clock time since the
 * run's first evaluation started (pauses included), one point per generation.
 */
import { drawAxes, linearScale, paddedDomain, type Frame } from './axes.js';
import { clear, svg } from './dom.js';
import { hypervolumeHistory, type RunView } from '../../src/core/run-view.js';
import { plannedEvaluations } from '../../src/core/search-config.js';
import { generationLabel } from '../../src/core/generation-label.js';

export type HypervolumeAxis = 'evaluations' | 'time';

/** Seconds from the run's first evaluation start to the end of each finished generation. */
export function generationSeconds(view: RunView): Map<number, number> {
  const starts = view.evaluations.map((e) => Date.parse(e.startedAt)).filter(Number.isFinite);
  const out = new Map<number, number>();
  if (starts.length === 0) return out;
  const t0 = Math.min(...starts);
  for (const g of view.run.generations) {
    let end = -Infinity;
    for (const e of view.evaluations) {
      if (e.index >= g.evaluations) break;
      const t = Date.parse(e.finishedAt);
      if (Number.isFinite(t) && t > end) end = t;
    }
    if (Number.isFinite(end)) out.set(g.generation, (end - t0) / 1000);
  }
  return out;
}

function clock(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const FRAME: Frame = { width: 420, height: 220, left: 68, right: 14, top: 12, bottom: 40 };

export class HypervolumeChart {
  private readonly root: SVGSVGElement;

  constructor(container: HTMLElement) {
    this.root = svg('svg', {
      viewBox: `0 0 ${FRAME.width} ${FRAME.height}`,
      class: 'chart hypervolume',
      role: 'img',
      'aria-label': 'hypervolume against evaluations',
    });
    container.append(this.root);
  }

  update(view: RunView | undefined, axis: HypervolumeAxis = 'evaluations'): void {
    clear(this.root);
    this.root.dataset.axis = axis;
    const g = svg('g');
    this.root.append(g);
    const history = view ? hypervolumeHistory(view) : [];
    const seconds = view && axis === 'time' ? generationSeconds(view) : new Map<number, number>();
    const points = history
      .map((p) => ({
        ...p,
        at: axis === 'time' ? (seconds.get(p.generation) ?? NaN) : p.evaluations,
      }))
      .filter((p) => Number.isFinite(p.at));
    const planned = view ? plannedEvaluations(view.run.config) : 0;
    const x = linearScale(
      axis === 'time'
        ? [0, Math.max(...points.map((p) => p.at), 1) * 1.05]
        : [0, Math.max(planned, ...points.map((p) => p.at), 1)],
      [FRAME.left, FRAME.width - FRAME.right],
    );
    const y = linearScale(
      paddedDomain(
        points.map((p) => p.hypervolume),
        0.01,
      ),
      [FRAME.height - FRAME.bottom, FRAME.top],
    );
    const span = y.domain[1] - y.domain[0];
    const decimals = Math.max(0, Math.min(8, 1 - Math.floor(Math.log10(span / 5 || 1))));
    const fmt = (v: number) => (Math.abs(v) >= 1e4 ? v.toExponential(1) : v.toFixed(decimals));
    drawAxes(
      g,
      FRAME,
      x,
      y,
      {
        x: axis === 'time' ? 'wall-clock time since the first evaluation' : 'evaluations',
        y: 'hypervolume',
      },
      fmt,
      axis === 'time' ? clock : (v) => String(Math.round(v)),
    );
    if (points.length === 0) {
      g.append(
        svg(
          'text',
          {
            x: (FRAME.left + FRAME.width) / 2,
            y: FRAME.height / 2,
            class: 'empty',
            'text-anchor': 'middle',
          },
          ['after the first generation'],
        ),
      );
      return;
    }
    const d = points
      .map((p, i) => `${i === 0 ? 'M' : 'L'} ${x(p.at).toFixed(1)} ${y(p.hypervolume).toFixed(1)}`)
      .join(' ');
    g.append(svg('path', { d, class: 'hv-line' }));
    for (const p of points) {
      g.append(
        svg('circle', { cx: x(p.at), cy: y(p.hypervolume), r: 3.5, class: 'hv-dot' }, [
          svg('title', {}, [
            `${generationLabel(p.generation)}: ${p.hypervolume} after ${p.evaluations} evaluations` +
              (axis === 'time' ? ` (${clock(p.at)})` : ''),
          ]),
        ]),
      );
    }
  }
}
