/**
 * Uniform random sampling from the DARTS search space, as DARTS's random-search baseline does:
 * each intermediate node picks two DISTINCT inputs among the earlier states, each with an op other
 * than 'none'; the cell output concatenates all intermediate nodes.
 */
import { InputError } from './errors.js';
import { DARTS_PRIMITIVES, type Edge, type Genotype, type OpName, isOpName } from './genotype.js';
import type { Rng } from './rng.js';

/** DARTS's PRIMITIVES without 'none': the ops a sampled or mutated edge may take by default. */
export const SAMPLING_OPS: readonly OpName[] = Object.freeze(
  DARTS_PRIMITIVES.filter((op) => op !== 'none'),
);

export const DEFAULT_NODES = 4;
export const MAX_NODES = 32;

export interface SampleOptions {
  /** Intermediate nodes per cell (default 4, as in DARTS). */
  readonly nodes?: number;
  /** The ops an edge may take (default {@link SAMPLING_OPS}). */
  readonly ops?: readonly OpName[];
}

/** Checks an op list given by a caller; returns it (throws InputError when empty or unknown). */
export function checkSampleOps(ops: readonly OpName[] | undefined): readonly OpName[] {
  if (ops === undefined) return SAMPLING_OPS;
  if (!Array.isArray(ops) || ops.length === 0)
    throw new InputError('ops: expected at least one op');
  for (const op of ops) {
    if (typeof op !== 'string' || !isOpName(op))
      throw new InputError(`ops: unknown op '${String(op)}'`);
  }
  return ops;
}

/** Checks a node count given by a caller. */
export function checkSampleNodes(nodes: number | undefined): number {
  if (nodes === undefined) return DEFAULT_NODES;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new InputError(`nodes: expected an integer from 1 to ${MAX_NODES}, got ${nodes}`);
  }
  return nodes;
}

/** Two distinct states in 0..count-1, uniformly, in random order. */
function twoDistinct(rng: Rng, count: number): [number, number] {
  const a = rng.int(count);
  let b = rng.int(count - 1);
  if (b >= a) b++;
  return [a, b];
}

function sampleCell(rng: Rng, nodes: number, ops: readonly OpName[]): Edge[] {
  const edges: Edge[] = [];
  for (let node = 0; node < nodes; node++) {
    const [a, b] = twoDistinct(rng, node + 2);
    edges.push([rng.choice(ops), a], [rng.choice(ops), b]);
  }
  return edges;
}

/** A uniformly random DARTS-space genotype (normal cell first, then reduction cell). */
export function sampleGenotype(rng: Rng, options: SampleOptions = {}): Genotype {
  const nodes = checkSampleNodes(options.nodes);
  const ops = checkSampleOps(options.ops);
  const concat = Array.from({ length: nodes }, (_, k) => k + 2);
  const normal = sampleCell(rng, nodes, ops);
  const reduce = sampleCell(rng, nodes, ops);
  return { normal, normal_concat: concat, reduce, reduce_concat: [...concat] };
}
