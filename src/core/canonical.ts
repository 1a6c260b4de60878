/**
 * The canonical form of a genotype and its stable hash. Two genotypes that build the same network
 * because they differ only in the order of a node's two inputs, or in the order of a concat list,
 * have the same canonical form and the same hash; any change of op, input or concat changes it.
 * The hash keys evaluation caches and deduplication.
 */
import { createHash } from 'node:crypto';
import type { Edge, Genotype } from './genotype.js';

function compareEdges(a: Edge, b: Edge): number {
  if (a[1] !== b[1]) return a[1] - b[1];
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function canonicalEdges(edges: readonly Edge[]): Edge[] {
  const out: Edge[] = [];
  for (let k = 0; k < edges.length; k += 2) {
    const pair = edges.slice(k, k + 2).map(([op, input]): Edge => [op, input]);
    out.push(...pair.sort(compareEdges));
  }
  return out;
}

/** `g` with each node's two edges ordered by (input, op) and each concat sorted ascending. */
export function canonicalGenotype(g: Genotype): Genotype {
  return {
    normal: canonicalEdges(g.normal),
    normal_concat: [...g.normal_concat].sort((a, b) => a - b),
    reduce: canonicalEdges(g.reduce),
    reduce_concat: [...g.reduce_concat].sort((a, b) => a - b),
  };
}

/** 16 hex characters of the SHA-256 of the canonical genotype's JSON. */
export function genotypeHash(g: Genotype): string {
  // canonicalGenotype builds a fresh object with a fixed key order, so the JSON never depends on
  // how `g` was built.
  const json = JSON.stringify(canonicalGenotype(g));
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/** True when the two genotypes build the same network (same canonical form). */
export function sameGenotype(a: Genotype, b: Genotype): boolean {
  return genotypeHash(a) === genotypeHash(b);
}
