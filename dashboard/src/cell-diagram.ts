/**
 * A DARTS cell drawn as a DAG (SVG), like DARTS's `visualize.py` plots: the two cell inputs c_{k-2}
 * and c_{k-1}, intermediate nodes 0..n-1 with one arrow per (op, input) edge labelled with its op,
 * and the output c_{k} fed by the concatenated nodes. The geometry comes from cell-layout.ts; labels
 * sit on their own arrow with a white halo so that arrows passing behind them do not hide them.
 */
import type { Edge } from '../../src/core/genotype.js';
import { layoutCell } from './cell-layout.js';
import { svg } from './dom.js';

const OP_COLORS: Record<string, string> = {
  sep_conv_3x3: '#1f6fb4',
  sep_conv_5x5: '#174f80',
  sep_conv_7x7: '#0f3454',
  dil_conv_3x3: '#7b3fa8',
  dil_conv_5x5: '#56287a',
  conv_7x1_1x7: '#a8327b',
  max_pool_3x3: '#c2571a',
  avg_pool_3x3: '#2f8f4e',
  skip_connect: '#6b7280',
};

export function drawCell(
  edges: readonly Edge[],
  concat: readonly number[],
  kind: 'normal' | 'reduce',
): SVGSVGElement {
  const layout = layoutCell(edges, concat);
  const v = layout.view;
  const root = svg('svg', {
    viewBox: `${v.x} ${v.y} ${v.w} ${v.h}`,
    width: Math.round(v.w),
    height: Math.round(v.h),
    class: `cell cell-${kind}`,
    'data-kind': kind,
    role: 'img',
    'aria-label': `${kind} cell`,
  });
  const markerId = `arrow-${kind}`;
  root.append(
    svg('defs', {}, [
      svg(
        'marker',
        {
          id: markerId,
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        [svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#444' })],
      ),
    ]),
  );

  const edgeLayer = svg('g', { class: 'edges' });
  const labelLayer = svg('g', { class: 'edge-labels' });
  for (const e of layout.edges) {
    const color = e.op === null ? undefined : (OP_COLORS[e.op] ?? '#333');
    edgeLayer.append(
      svg('path', {
        d: e.d,
        class: e.op === null ? 'edge concat' : 'edge',
        ...(color ? { stroke: color, 'data-op': e.op! } : {}),
        'data-from': e.from,
        'data-to': e.to,
        'marker-end': `url(#${markerId})`,
      }),
    );
    if (e.label && color) {
      const b = e.label.box;
      labelLayer.append(
        svg('rect', {
          x: b.x,
          y: b.y,
          width: b.w,
          height: b.h,
          rx: 3,
          class: 'edge-label-bg',
          stroke: color,
        }),
        svg(
          'text',
          {
            x: e.label.at.x,
            y: e.label.at.y + 3.5,
            class: 'edge-label',
            fill: color,
            'text-anchor': 'middle',
          },
          [e.label.text],
        ),
      );
    }
  }
  root.append(edgeLayer);

  const nodeLayer = svg('g', { class: 'nodes' });
  for (const n of layout.nodes) {
    const b = n.box;
    nodeLayer.append(
      svg('g', { class: `node ${n.kind}`, 'data-node': n.id }, [
        svg('rect', {
          x: b.x,
          y: b.y,
          width: b.w,
          height: b.h,
          rx: n.kind === 'intermediate' ? 15 : 5,
        }),
        svg('text', { x: b.x + b.w / 2, y: b.y + b.h / 2 + 4, 'text-anchor': 'middle' }, [n.label]),
      ]),
    );
  }
  root.append(nodeLayer, labelLayer);
  return root;
}
