/**
 * Mutation of a genotype: change an edge's op, or rewire an edge to another earlier state. The
 * child is always a valid genotype (a node whose two inputs were distinct keeps them distinct) and,
 * whenever any change is possible, builds a different network from its parent (different hash).
 */
import { InputError } from '../core/errors.js';
import { sameGenotype } from '../core/canonical.js';
import type { CellKind, Edge, Genotype, OpName } from '../core/genotype.js';
import { validateGenotype } from '../core/genotype-validate.js';
import type { Rng } from '../core/rng.js';
import { checkSampleOps } from '../core/sampling.js';

export interface MutateOptions {
  /** The ops an edge may change to (default: DARTS's primitives without 'none'). */
  readonly ops?: readonly OpName[];
  /**
   * Probability that each edge mutates (default: one over the number of edges of both cells, so one
   * edge on average). At least one edge always mutates.
   */
  readonly probability?: number;
}

interface MutableGenotype {
  normal: [OpName, number][];
  normal_concat: number[];
  reduce: [OpName, number][];
  reduce_concat: number[];
}

const CELLS: readonly CellKind[] = ['normal', 'reduce'];

function copy(g: Genotype): MutableGenotype {
  const edges = (list: readonly Edge[]): [OpName, number][] => list.map(([op, i]) => [op, i]);
  return {
    normal: edges(g.normal),
    normal_concat: [...g.normal_concat],
    reduce: edges(g.reduce),
    reduce_concat: [...g.reduce_concat],
  };
}

/** Ops edge k may change to. */
function opChoices(
  edges: readonly [OpName, number][],
  k: number,
  ops: readonly OpName[],
): OpName[] {
  const current = (edges[k] as [OpName, number])[0];
  return ops.filter((op) => op !== current);
}

/** States edge k may be rewired to: earlier states other than its own (and its sibling's, if the parent's node had two distinct inputs). */
function inputChoices(
  edges: readonly [OpName, number][],
  parentEdges: readonly Edge[],
  k: number,
): number[] {
  const node = Math.floor(k / 2);
  const sibling = k ^ 1;
  const parentDistinct =
    (parentEdges[2 * node] as Edge)[1] !== (parentEdges[2 * node + 1] as Edge)[1];
  const current = (edges[k] as [OpName, number])[1];
  const siblingInput = (edges[sibling] as [OpName, number])[1];
  const out: number[] = [];
  for (let s = 0; s <= node + 1; s++) {
    if (s === current) continue;
    if (parentDistinct && s === siblingInput) continue;
    out.push(s);
  }
  return out;
}

/** Mutates edge k of `edges` in place (op or input, chosen at random); false when neither can change. */
function mutateEdge(
  edges: [OpName, number][],
  parentEdges: readonly Edge[],
  k: number,
  rng: Rng,
  ops: readonly OpName[],
): boolean {
  const opsLeft = opChoices(edges, k, ops);
  const inputsLeft = inputChoices(edges, parentEdges, k);
  const edge = edges[k] as [OpName, number];
  const rewire = inputsLeft.length > 0 && (opsLeft.length === 0 || rng.bool(0.5));
  if (rewire) {
    edge[1] = rng.choice(inputsLeft);
    return true;
  }
  if (opsLeft.length > 0) {
    edge[0] = rng.choice(opsLeft);
    return true;
  }
  return false;
}

/** One mutation of one randomly chosen edge that can change; null when no edge can. */
function forcedMutation(
  parent: Genotype,
  rng: Rng,
  ops: readonly OpName[],
): MutableGenotype | null {
  const child = copy(parent);
  const slots = CELLS.flatMap((cell) => child[cell].map((_, k) => [cell, k] as const));
  for (const [cell, k] of rng.shuffle(slots)) {
    if (mutateEdge(child[cell], parent[cell], k, rng, ops)) return child;
  }
  return null;
}

/**
 * A mutated copy of `g`: each edge mutates with `probability` (its op changes, or it is rewired to
 * another earlier state). If that leaves the network unchanged, exactly one random edge mutates
 * instead, so the child differs from the parent whenever any change is possible.
 */
export function mutateGenotype(g: Genotype, rng: Rng, options: MutateOptions = {}): Genotype {
  const parent = validateGenotype(g);
  const ops = checkSampleOps(options.ops);
  const totalEdges = parent.normal.length + parent.reduce.length;
  const probability = options.probability ?? 1 / totalEdges;
  if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
    throw new InputError(`probability: expected a number from 0 to 1, got ${probability}`);
  }

  const child = copy(parent);
  for (const cell of CELLS) {
    const edges = child[cell];
    for (let k = 0; k < edges.length; k++) {
      if (rng.bool(probability)) mutateEdge(edges, parent[cell], k, rng, ops);
    }
  }
  if (!sameGenotype(child, parent)) return child;
  return forcedMutation(parent, rng, ops) ?? child;
}
