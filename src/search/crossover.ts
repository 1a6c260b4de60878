/**
 * Crossover of two genotypes with the same node counts: node-wise uniform (each intermediate node,
 * with both its edges and its place in the concat, comes from one parent or the other) or a swap of
 * whole cells (one child takes the normal cell of one parent and the reduction cell of the other).
 * Children are always valid genotypes.
 */
import { InputError } from '../core/errors.js';
import { nodeCount, type CellKind, type Edge, type Genotype } from '../core/genotype.js';
import { validateGenotype } from '../core/genotype-validate.js';
import type { Rng } from '../core/rng.js';

import { CROSSOVER_MODES, type CrossoverMode } from '../core/search-config.js';

export { CROSSOVER_MODES, type CrossoverMode };

interface Cell {
  edges: Edge[];
  concat: number[];
}

function cellOf(g: Genotype, kind: CellKind): Cell {
  return {
    edges: g[kind].map(([op, i]): Edge => [op, i]),
    concat: [...g[kind === 'normal' ? 'normal_concat' : 'reduce_concat']],
  };
}

function genotypeOf(normal: Cell, reduce: Cell): Genotype {
  return {
    normal: normal.edges,
    normal_concat: normal.concat,
    reduce: reduce.edges,
    reduce_concat: reduce.concat,
  };
}

/** Node-wise uniform crossover of one cell: returns the two complementary children. */
function crossCell(a: Cell, b: Cell, rng: Rng): [Cell, Cell] {
  const nodes = nodeCount(a.edges);
  const c1: Cell = { edges: [], concat: [] };
  const c2: Cell = { edges: [], concat: [] };
  for (let node = 0; node < nodes; node++) {
    const [from1, from2] = rng.bool(0.5) ? [a, b] : [b, a];
    const state = node + 2;
    c1.edges.push(...from1.edges.slice(2 * node, 2 * node + 2));
    c2.edges.push(...from2.edges.slice(2 * node, 2 * node + 2));
    if (from1.concat.includes(state)) c1.concat.push(state);
    if (from2.concat.includes(state)) c2.concat.push(state);
  }
  // Concats inherited node by node can come out empty; fall back to a parent's whole concat.
  if (c1.concat.length === 0) c1.concat = [...a.concat];
  if (c2.concat.length === 0) c2.concat = [...b.concat];
  return [c1, c2];
}

/**
 * Two children of `a` and `b`. `mode` 'node-uniform' (default) crosses each cell node by node,
 * 'cell-swap' exchanges the reduction cells, 'random' picks one of the two. The parents must have
 * the same number of nodes in each cell (else InputError).
 */
export function crossoverGenotypes(
  a: Genotype,
  b: Genotype,
  rng: Rng,
  mode: CrossoverMode = 'node-uniform',
): [Genotype, Genotype] {
  if (!(CROSSOVER_MODES as readonly string[]).includes(mode)) {
    throw new InputError(
      `unknown crossover mode '${String(mode)}' (expected ${CROSSOVER_MODES.join(', ')})`,
    );
  }
  const pa = validateGenotype(a);
  const pb = validateGenotype(b);
  for (const kind of ['normal', 'reduce'] as const) {
    if (pa[kind].length !== pb[kind].length) {
      throw new InputError(
        `crossover: the parents' ${kind} cells have ${nodeCount(pa[kind])} and ${nodeCount(pb[kind])} nodes; they must have the same number`,
      );
    }
  }
  const chosen = mode === 'random' ? (rng.bool(0.5) ? 'node-uniform' : 'cell-swap') : mode;
  const [an, ar, bn, br] = [
    cellOf(pa, 'normal'),
    cellOf(pa, 'reduce'),
    cellOf(pb, 'normal'),
    cellOf(pb, 'reduce'),
  ];
  if (chosen === 'cell-swap') return [genotypeOf(an, br), genotypeOf(bn, ar)];
  const [n1, n2] = crossCell(an, bn, rng);
  const [r1, r2] = crossCell(ar, br, rng);
  return [genotypeOf(n1, r1), genotypeOf(n2, r2)];
}
