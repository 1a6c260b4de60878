/**
 * A DARTS cell drawn as a DAG, like DARTS's `visualize.py` plots: the two cell inputs c_{k-2} and
 * c_{k-1}, intermediate nodes 0..n-1 with one arrow per (op, input) edge labelled with its op, and
 * the output c_{k} fed by the concatenated nodes. Laid out left to right by depth.
 */
import type { Edge } from '../../src/search/genotype.js';
import { svg } from './dom.js';

const COL_W = 175;
const ROW_H = 78;
const NODE_W = 64;
const NODE_H = 32;

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

function stateLabel(s: number): string {
  return s === 0 ? 'c_{k-2}' : s === 1 ? 'c_{k-1}' : String(s - 2);
}

interface Placed {
  readonly x: number;
  readonly y: number;
}

/** Depth of every state: inputs 0, a node one more than its deepest input. */
export function stateDepths(edges: readonly Edge[]): number[] {
  const nodes = edges.length / 2;
  const depth = [0, 0];
  for (let i = 0; i < nodes; i++) {
    const inputs = [edges[2 * i], edges[2 * i + 1]]
      .filter((e): e is Edge => e !== undefined && e[0] !== 'none')
      .map((e) => e[1]);
    depth.push(1 + Math.max(0, ...inputs.map((s) => depth[s] ?? 0)));
  }
  return depth;
}

export function drawCell(
  edges: readonly Edge[],
  concat: readonly number[],
  kind: 'normal' | 'reduce',
): SVGSVGElement {
  const nodes = edges.length / 2;
  const depth = stateDepths(edges);
  const outCol = Math.max(1, ...depth) + 1;
  const columns = new Map<number, number[]>();
  depth.forEach((d, s) => columns.set(d, [...(columns.get(d) ?? []), s]));
  const tallest = Math.max(2, ...[...columns.values()].map((c) => c.length));
  const width = (outCol + 1) * COL_W - (COL_W - NODE_W) + 40;
  const height = tallest * ROW_H + 90; // room for arcs over skipped columns
  const place = new Map<number | 'out', Placed>();
  for (const [col, states] of columns) {
    states.forEach((s, i) => {
      place.set(s, {
        x: 20 + col * COL_W,
        y: height / 2 + (i - (states.length - 1) / 2) * ROW_H,
      });
    });
  }
  place.set('out', { x: 20 + outCol * COL_W, y: height / 2 });

  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
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
  const pairCount = new Map<string, number>();
  const curve = (from: Placed, to: Placed, bend: number, t = 0.5) => {
    const x1 = from.x + NODE_W;
    const y1 = from.y;
    const x2 = to.x - 2;
    const y2 = to.y;
    const dx = Math.max(40, (x2 - x1) / 2);
    const c1 = { x: x1 + dx, y: y1 + bend };
    const c2 = { x: x2 - dx, y: y2 + bend };
    const u = 1 - t;
    const mid = {
      x: u * u * u * x1 + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t * t * t * x2,
      y: u * u * u * y1 + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t * t * t * y2,
    };
    return { d: `M ${x1} ${y1} C ${c1.x} ${c1.y}, ${c2.x} ${c2.y}, ${x2} ${y2}`, mid };
  };

  for (let i = 0; i < nodes; i++) {
    const pair = [edges[2 * i], edges[2 * i + 1]];
    for (let j = 0; j < 2; j++) {
      const e = pair[j];
      if (!e || e[0] === 'none') continue;
      const [op, input] = e;
      const from = place.get(input);
      const to = place.get(i + 2);
      if (!from || !to) continue;
      const key = `${input}-${i + 2}`;
      const k = pairCount.get(key) ?? 0;
      pairCount.set(key, k + 1);
      // An arrow that skips a column arcs away from the middle so it does not cross the nodes there.
      const skips = (depth[i + 2] ?? 0) - (depth[input] ?? 0) > 1;
      const arc = skips ? (from.y <= height / 2 ? -1 : 1) * ROW_H * 0.75 : 0;
      const bend = arc + (k === 0 ? 0 : 30 * (k % 2 === 1 ? 1 : -1) * Math.ceil(k / 2));
      // The two inputs of a node: labels at different points along their arrows so they never meet.
      const { d, mid } = curve(from, to, bend, j === 0 ? 0.42 : 0.62);
      const color = OP_COLORS[op] ?? '#333';
      edgeLayer.append(
        svg('path', {
          d,
          class: 'edge',
          stroke: color,
          'marker-end': `url(#${markerId})`,
          'data-op': op,
        }),
      );
      labelLayer.append(
        svg(
          'text',
          { x: mid.x, y: mid.y - 4, class: 'edge-label', fill: color, 'text-anchor': 'middle' },
          [op],
        ),
      );
    }
  }
  const out = place.get('out') as Placed;
  for (const s of concat) {
    const from = place.get(s);
    if (!from) continue;
    const skips = outCol - (depth[s] ?? 0) > 1;
    const arc = skips ? (from.y <= height / 2 ? -1 : 1) * ROW_H * 0.5 : 0;
    edgeLayer.append(
      svg('path', {
        d: curve(from, out, arc).d,
        class: 'edge concat',
        'marker-end': `url(#${markerId})`,
      }),
    );
  }
  root.append(edgeLayer);

  const nodeLayer = svg('g', { class: 'nodes' });
  const drawNode = (p: Placed, label: string, cls: string) => {
    nodeLayer.append(
      svg('g', { class: `node ${cls}` }, [
        svg('rect', {
          x: p.x,
          y: p.y - NODE_H / 2,
          width: NODE_W,
          height: NODE_H,
          rx: cls === 'intermediate' ? 15 : 5,
        }),
        svg('text', { x: p.x + NODE_W / 2, y: p.y + 4, 'text-anchor': 'middle' }, [label]),
      ]),
    );
  };
  for (let s = 0; s < nodes + 2; s++) {
    const p = place.get(s);
    if (p) drawNode(p, stateLabel(s), s < 2 ? 'input' : 'intermediate');
  }
  drawNode(out, 'c_{k}', 'output');
  root.append(nodeLayer, labelLayer);
  return root;
}
