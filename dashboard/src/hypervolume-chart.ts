/** Hypervolume of the front against the number of evaluations, one point per generation. */
import { drawAxes, linearScale, paddedDomain, type Frame } from './axes.js';
import { clear, svg } from './dom.js';
import { hypervolumeHistory, type RunView } from '../../src/core/run-view.js';
import { plannedEvaluations } from '../../src/core/search-config.js';

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

  update(view: RunView | undefined): void {
    clear(this.root);
    const g = svg('g');
    this.root.append(g);
    const points = view ? hypervolumeHistory(view) : [];
    const planned = view ? plannedEvaluations(view.run.config) : 0;
    const x = linearScale(
      [0, Math.max(planned, ...points.map((p) => p.evaluations), 1)],
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
    drawAxes(g, FRAME, x, y, { x: 'evaluations', y: 'hypervolume' }, fmt, (v) =>
      String(Math.round(v)),
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
      .map(
        (p, i) =>
          `${i === 0 ? 'M' : 'L'} ${x(p.evaluations).toFixed(1)} ${y(p.hypervolume).toFixed(1)}`,
      )
      .join(' ');
    g.append(svg('path', { d, class: 'hv-line' }));
    for (const p of points) {
      g.append(
        svg('circle', { cx: x(p.evaluations), cy: y(p.hypervolume), r: 3.5, class: 'hv-dot' }, [
          svg('title', {}, [
            `generation ${p.generation}: ${p.hypervolume} after ${p.evaluations} evaluations`,
          ]),
        ]),
      );
    }
  }
}
