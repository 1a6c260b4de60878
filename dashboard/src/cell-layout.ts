/**
 * Geometry of a DARTS cell diagram, without the DOM (so it can be checked in tests): nodes in columns
 * by depth, ordered within a column to cut edge crossings (barycenter sweeps); arrows that skip a
 * column routed in their own lane above or below the nodes they pass; parallel arrows between the
 * same two nodes spread apart; and every op label placed on its own arrow where it meets no node and
 * no other label (greedy search along the arrow, then a second pass).
 */
import type { Edge } from '../../src/core/genotype.js';

export const NODE_W = 64;
export const NODE_H = 32;
const COL_W = 200;
const ROW_H = 84;
/** Vertical distance between lanes of arrows that skip columns. */
const LANE = 20;
/** Width of one character of an op label (10.5px monospace) and the label box height. */
const CHAR_W = 6.4;
const LABEL_H = 14;
const MARGIN = 10;

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** An axis-aligned box: top-left corner, width and height. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export type NodeId = number | 'out';

export interface LaidNode {
  readonly id: NodeId;
  readonly label: string;
  readonly kind: 'input' | 'intermediate' | 'output';
  readonly box: Box;
}

export interface LaidLabel {
  readonly text: string;
  /** Centre of the label (on its arrow). */
  readonly at: Point;
  readonly box: Box;
}

export interface LaidEdge {
  /** The op, or null for the dashed arrows into the output (the concatenation). */
  readonly op: string | null;
  readonly from: number;
  readonly to: NodeId;
  /** SVG path data. */
  readonly d: string;
  /** Points along the path (for placing labels and for tests). */
  readonly samples: readonly Point[];
  readonly label?: LaidLabel;
}

export interface CellLayout {
  /** The drawing's extent: use as the SVG viewBox. */
  readonly view: Box;
  readonly nodes: readonly LaidNode[];
  readonly edges: readonly LaidEdge[];
}

export function stateLabel(s: number): string {
  return s === 0 ? 'c_{k-2}' : s === 1 ? 'c_{k-1}' : String(s - 2);
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

export function boxesOverlap(a: Box, b: Box, pad = 0): boolean {
  return (
    a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad
  );
}

function overlapArea(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

interface Link {
  readonly op: string | null;
  readonly from: number;
  readonly to: NodeId;
}

/** A path of cubic Bézier segments. */
class PathBuilder {
  private readonly parts: string[];
  readonly samples: Point[];
  private last: Point;

  constructor(start: Point) {
    this.parts = [`M ${r(start.x)} ${r(start.y)}`];
    this.samples = [start];
    this.last = start;
  }

  cubic(c1: Point, c2: Point, end: Point, steps = 24): this {
    const p0 = this.last;
    for (let k = 1; k <= steps; k++) {
      const t = k / steps;
      const u = 1 - t;
      this.samples.push({
        x: u * u * u * p0.x + 3 * u * u * t * c1.x + 3 * u * t * t * c2.x + t * t * t * end.x,
        y: u * u * u * p0.y + 3 * u * u * t * c1.y + 3 * u * t * t * c2.y + t * t * t * end.y,
      });
    }
    this.parts.push(`C ${r(c1.x)} ${r(c1.y)}, ${r(c2.x)} ${r(c2.y)}, ${r(end.x)} ${r(end.y)}`);
    this.last = end;
    return this;
  }

  line(end: Point, steps = 12): this {
    const p0 = this.last;
    for (let k = 1; k <= steps; k++) {
      const t = k / steps;
      this.samples.push({ x: p0.x + (end.x - p0.x) * t, y: p0.y + (end.y - p0.y) * t });
    }
    this.parts.push(`L ${r(end.x)} ${r(end.y)}`);
    this.last = end;
    return this;
  }

  get d(): string {
    return this.parts.join(' ');
  }
}

function r(v: number): number {
  return Math.round(v * 10) / 10;
}

export function layoutCell(edges: readonly Edge[], concat: readonly number[]): CellLayout {
  const nodes = edges.length / 2;
  const depth = stateDepths(edges);
  const outCol = Math.max(1, ...depth) + 1;

  const links: Link[] = [];
  for (let i = 0; i < nodes; i++) {
    for (const e of [edges[2 * i], edges[2 * i + 1]]) {
      if (e && e[0] !== 'none') links.push({ op: e[0], from: e[1], to: i + 2 });
    }
  }
  for (const s of concat) if (s < nodes + 2) links.push({ op: null, from: s, to: 'out' });
  const colOf = (id: NodeId) => (id === 'out' ? outCol : (depth[id] ?? 0));

  // Columns, ordered to cut crossings: barycenter of neighbours, sweeping forwards and backwards.
  const columns: NodeId[][] = [];
  for (let c = 0; c <= outCol; c++) columns.push([]);
  depth.forEach((d, s) => columns[d]!.push(s));
  columns[outCol]!.push('out');
  const y = new Map<NodeId, number>();
  // A column with fewer nodes than the tallest is spread out, so arrows fan out less steeply and
  // their labels have room.
  const tallest = Math.max(...columns.map((c) => c.length));
  const placeColumn = (col: NodeId[]) => {
    const gap = ROW_H * Math.max(1, (0.6 * (tallest - 1)) / Math.max(1, col.length - 1));
    col.forEach((id, i) => y.set(id, (i - (col.length - 1) / 2) * gap));
  };
  columns.forEach(placeColumn);
  const mean = (ids: NodeId[], fallback: number) =>
    ids.length === 0
      ? fallback
      : ids.reduce<number>((a, id) => a + (y.get(id) ?? 0), 0) / ids.length;
  const reorder = (c: number, neighbours: (id: NodeId) => NodeId[]) => {
    const col = columns[c]!;
    const key = new Map(col.map((id) => [id, mean(neighbours(id), y.get(id) ?? 0)]));
    col.sort((a, b) => key.get(a)! - key.get(b)! || (y.get(a) ?? 0) - (y.get(b) ?? 0));
    placeColumn(col);
  };
  const preds = (id: NodeId) => links.filter((l) => l.to === id).map((l) => l.from);
  const succs = (id: NodeId) => links.filter((l) => l.from === id).map((l) => l.to);
  for (let sweep = 0; sweep < 3; sweep++) {
    for (let c = 1; c <= outCol; c++) reorder(c, preds);
    for (let c = outCol - 1; c >= 1; c--) reorder(c, succs);
  }
  // The output sits level with what it concatenates.
  y.set('out', mean(preds('out'), 0));

  const laid = new Map<NodeId, LaidNode>();
  columns.forEach((col, c) =>
    col.forEach((id) => {
      const cy = y.get(id)!;
      laid.set(id, {
        id,
        label: id === 'out' ? 'c_{k}' : stateLabel(id),
        kind: id === 'out' ? 'output' : id < 2 ? 'input' : 'intermediate',
        box: { x: c * COL_W, y: cy - NODE_H / 2, w: NODE_W, h: NODE_H },
      });
    }),
  );
  const nodeBoxes = [...laid.values()].map((n) => n.box);

  // Ports: the arrows leaving (entering) a node are spread along its right (left) side, ordered by
  // where they go (come from), so they neither cross at the node nor share an end point.
  const outPort = new Map<Link, number>();
  const inPort = new Map<Link, number>();
  const spread = (list: Link[], key: (l: Link) => number, into: Map<Link, number>) => {
    const sorted = [...list].sort((a, b) => key(a) - key(b));
    const step = Math.min(8, (NODE_H - 8) / Math.max(1, sorted.length - 1));
    sorted.forEach((l, i) => into.set(l, (i - (sorted.length - 1) / 2) * step));
  };
  for (const id of laid.keys()) {
    spread(
      links.filter((l) => l.from === id),
      (l) => y.get(l.to)!,
      outPort,
    );
    spread(
      links.filter((l) => l.to === id),
      (l) => y.get(l.from)!,
      inPort,
    );
  }

  // Lanes for arrows that skip columns: above or below the nodes they pass, one lane each.
  const lanesUsed = {
    top: [] as [number, number, number][],
    bottom: [] as [number, number, number][],
  };
  const laneY = (side: 'top' | 'bottom', x1: number, x2: number, clear: number): number => {
    const used = lanesUsed[side];
    for (let k = 0; ; k++) {
      const candidate = side === 'top' ? clear - LANE * (k + 1) : clear + LANE * (k + 1);
      const taken = used.some(([a, b, ly]) => ly === candidate && a < x2 && x1 < b);
      if (!taken) {
        used.push([x1, x2, candidate]);
        return candidate;
      }
    }
  };

  const pairSeen = new Map<string, number>();
  const pairTotal = new Map<string, number>();
  for (const l of links)
    pairTotal.set(`${l.from}>${l.to}`, (pairTotal.get(`${l.from}>${l.to}`) ?? 0) + 1);

  // Skip arrows first by span (shortest nearest the nodes), labelled ones before the concat arrows.
  const order = [...links].sort(
    (a, b) =>
      Number(a.op === null) - Number(b.op === null) ||
      colOf(a.to) - colOf(a.from) - (colOf(b.to) - colOf(b.from)),
  );
  const routed = new Map<Link, PathBuilder>();
  for (const l of order) {
    const a = laid.get(l.from)!.box;
    const b = laid.get(l.to)!.box;
    const start = { x: a.x + a.w, y: a.y + a.h / 2 + (outPort.get(l) ?? 0) };
    const end = { x: b.x - 2, y: b.y + b.h / 2 + (inPort.get(l) ?? 0) };
    const key = `${l.from}>${l.to}`;
    const k = pairSeen.get(key) ?? 0;
    pairSeen.set(key, k + 1);
    const bend = (k - ((pairTotal.get(key) ?? 1) - 1) / 2) * 34;
    const c0 = colOf(l.from);
    const c1 = colOf(l.to);
    const path = new PathBuilder(start);
    const passed = nodeBoxes.filter((n) => n.x > a.x + a.w && n.x + n.w < b.x);
    if (c1 - c0 <= 1 || passed.length === 0) {
      const dx = Math.max(40, (end.x - start.x) / 2);
      path.cubic({ x: start.x + dx, y: start.y + bend }, { x: end.x - dx, y: end.y + bend }, end);
    } else {
      const top = Math.min(...passed.map((n) => n.y));
      const bottom = Math.max(...passed.map((n) => n.y + n.h));
      const side =
        Math.abs(start.y - top) + Math.abs(end.y - top) <=
        Math.abs(start.y - bottom) + Math.abs(end.y - bottom)
          ? 'top'
          : 'bottom';
      const x1 = (c0 + 1) * COL_W - 30;
      const x2 = (c1 - 1) * COL_W + NODE_W + 30;
      const ly = laneY(side, x1, x2, side === 'top' ? top : bottom);
      const dx1 = (x1 - start.x) / 2;
      const dx2 = (end.x - x2) / 2;
      path
        .cubic({ x: start.x + dx1, y: start.y }, { x: x1 - dx1, y: ly }, { x: x1, y: ly })
        .line({ x: x2, y: ly })
        .cubic({ x: x2 + dx2, y: ly }, { x: end.x - dx2, y: end.y }, end);
    }
    routed.set(l, path);
  }

  // Labels: on their own arrow, away from nodes and other labels (and, if possible, other arrows).
  const labelled = links.filter((l) => l.op !== null);
  const placed = new Map<Link, LaidLabel>();
  const ts = [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.2, 0.8, 0.14, 0.86];
  const place = (l: Link) => {
    const samples = routed.get(l)!.samples;
    const text = l.op!;
    const w = text.length * CHAR_W + 6;
    let best: { cost: number; label: LaidLabel } | undefined;
    for (const t of ts) {
      const p = samples[Math.round(t * (samples.length - 1))]!;
      const box = { x: p.x - w / 2, y: p.y - LABEL_H / 2, w, h: LABEL_H };
      let cost = Math.abs(t - 0.5) * 20;
      for (const n of nodeBoxes)
        cost += overlapArea(box, n) * 50 + (boxesOverlap(box, n, 3) ? 200 : 0);
      for (const [other, lab] of placed) {
        if (other === l) continue;
        cost += overlapArea(box, lab.box) * 50 + (boxesOverlap(box, lab.box, 2) ? 400 : 0);
      }
      for (const [other, path] of routed) {
        if (other === l) continue;
        for (const s of path.samples) {
          if (s.x > box.x && s.x < box.x + box.w && s.y > box.y && s.y < box.y + box.h) cost += 3;
        }
      }
      if (!best || cost < best.cost) best = { cost, label: { text, at: p, box } };
    }
    placed.set(l, best!.label);
  };
  const byLength = [...labelled].sort(
    (a, b) => routed.get(a)!.samples.length - routed.get(b)!.samples.length,
  );
  for (const l of byLength) place(l);
  for (const l of byLength) place(l); // second pass: every label now sees all the others

  const laidEdges: LaidEdge[] = links.map((l) => {
    const path = routed.get(l)!;
    const label = placed.get(l);
    return {
      op: l.op,
      from: l.from,
      to: l.to,
      d: path.d,
      samples: path.samples,
      ...(label ? { label } : {}),
    };
  });

  // The extent of everything drawn.
  const xs: number[] = [];
  const ys: number[] = [];
  const addBox = (b: Box) => {
    xs.push(b.x, b.x + b.w);
    ys.push(b.y, b.y + b.h);
  };
  nodeBoxes.forEach(addBox);
  for (const e of laidEdges) {
    for (const s of e.samples) {
      xs.push(s.x);
      ys.push(s.y);
    }
    if (e.label) addBox(e.label.box);
  }
  const minX = Math.min(...xs) - MARGIN;
  const minY = Math.min(...ys) - MARGIN;
  return {
    view: {
      x: minX,
      y: minY,
      w: Math.max(...xs) + MARGIN - minX,
      h: Math.max(...ys) + MARGIN - minY,
    },
    nodes: [...laid.values()],
    edges: laidEdges,
  };
}
