/**
 * The DARTS genotype as plain data.
 *
 * `Genotype(normal=[(op, input), ...], normal_concat=[...], reduce=[...], reduce_concat=[...])`:
 * two `(op, input)` pairs per intermediate node. Input 0 and 1 are the outputs of the two previous
 * cells; input k >= 2 is intermediate node k-2 of the same cell. A node sums its two ops; the cell
 * output concatenates the states listed in `*_concat`.
 */

/** DARTS's PRIMITIVES, in DARTS's order. */
export const DARTS_PRIMITIVES = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
] as const;

/** Every operation a genotype may name: DARTS's primitives plus those of published NASNet/AmoebaNet cells. */
export const OPERATIONS = [...DARTS_PRIMITIVES, 'sep_conv_7x7', 'conv_7x1_1x7'] as const;

export type OpName = (typeof OPERATIONS)[number];

/** One input of an intermediate node: the op applied and the index of the state it reads. */
export type Edge = readonly [op: OpName, input: number];

export interface Genotype {
  readonly normal: readonly Edge[];
  readonly normal_concat: readonly number[];
  readonly reduce: readonly Edge[];
  readonly reduce_concat: readonly number[];
}

export type CellKind = 'normal' | 'reduce';

export function isOpName(name: string): name is OpName {
  return (OPERATIONS as readonly string[]).includes(name);
}

/** Number of intermediate nodes of a cell (two edges per node). */
export function nodeCount(edges: readonly Edge[]): number {
  return edges.length / 2;
}
