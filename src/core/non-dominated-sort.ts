/**
 * Fast non-dominated sorting (Deb et al. 2002), implemented as the efficient non-dominated sort with
 * binary search over fronts (ENS-BS, Zhang et al. 2015): the points are sorted lexicographically, so a
 * point can only be dominated by points before it, and each point goes to the first front none of whose
 * members dominates it. Same fronts as Deb's O(MN^2) procedure, far fewer comparisons.
 */
import { InputError } from './errors.js';

export type Direction = 'min' | 'max';

/** Checks that `points` is a non-empty rectangular matrix of numbers and returns its width. */
export function objectiveCount(points: readonly (readonly number[])[]): number {
  if (points.length === 0) return 0;
  const m = points[0]!.length;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.length !== m) {
      throw new InputError(`point ${i} has ${p.length} objectives, expected ${m}`);
    }
    for (let k = 0; k < m; k++) {
      if (Number.isNaN(p[k])) throw new InputError(`point ${i} objective ${k} is NaN`);
    }
  }
  return m;
}

/** Sign per objective that turns it into a minimisation (+1 for 'min', -1 for 'max'). */
export function directionSigns(m: number, directions?: readonly Direction[]): Float64Array {
  const signs = new Float64Array(m).fill(1);
  if (directions === undefined) return signs;
  if (directions.length !== m) {
    throw new InputError(`got ${directions.length} directions for ${m} objectives`);
  }
  directions.forEach((d, k) => {
    if (d !== 'min' && d !== 'max') throw new InputError(`direction ${k} must be 'min' or 'max'`);
    signs[k] = d === 'max' ? -1 : 1;
  });
  return signs;
}

/** Row-major copy of the points in minimisation form. */
function toMinimisation(points: readonly (readonly number[])[], m: number, signs: Float64Array) {
  const flat = new Float64Array(points.length * m);
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    for (let k = 0; k < m; k++) flat[i * m + k] = signs[k]! * p[k]!;
  }
  return flat;
}

/**
 * Sorts points into Pareto fronts. `directions[k]` says whether objective k is minimised (default) or
 * maximised. Returns the fronts, best first, each as ascending point indices. Identical points share a
 * front; the result does not depend on the order of equal points.
 */
export function nonDominatedSort(
  points: readonly (readonly number[])[],
  directions?: readonly Direction[],
): number[][] {
  const n = points.length;
  if (n === 0) return [];
  const m = objectiveCount(points);
  const f = toMinimisation(points, m, directionSigns(m, directions));
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => {
    for (let k = 0; k < m; k++) {
      const d = f[a * m + k]! - f[b * m + k]!;
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return a - b;
  });
  const fronts: number[][] = [];
  // Each front's members (in insertion = lexicographic order) with their objective values.
  const values: number[][] = [];
  /**
   * Is p dominated by a member of front `fr`? Members come before p in lexicographic order, so a
   * member q has q[0] <= p[0]: q dominates p iff q[k] <= p[k] for every other k and q != p.
   */
  const dominatedBy = (fr: number, p: number): boolean => {
    const vals = values[fr]!;
    const op = p * m;
    // Most recently added members are the closest in sort order: check them first.
    for (let base = vals.length - m; base >= 0; base -= m) {
      let k = 1;
      while (k < m && vals[base + k]! <= f[op + k]!) k++;
      if (k < m) continue;
      if (vals[base]! < f[op]!) return true;
      for (k = 1; k < m; k++) if (vals[base + k]! < f[op + k]!) return true;
    }
    return false;
  };
  for (const p of order) {
    let lo = 0;
    let hi = fronts.length; // answer in [lo, hi]; hi = a new front
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (dominatedBy(mid, p)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === fronts.length) {
      fronts.push([]);
      values.push([]);
    }
    fronts[lo]!.push(p);
    const vals = values[lo]!;
    for (let k = 0; k < m; k++) vals.push(f[p * m + k]!);
  }
  for (const front of fronts) front.sort((a, b) => a - b);
  return fronts;
}

/** Rank (front number, from 0) of every point. */
export function paretoRanks(fronts: readonly (readonly number[])[], n: number): Int32Array {
  const rank = new Int32Array(n).fill(-1);
  fronts.forEach((front, r) => front.forEach((i) => (rank[i] = r)));
  return rank;
}
