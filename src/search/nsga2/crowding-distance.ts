/**
 * Crowding distance (Deb et al. 2002) as pymoo computes it: per objective, the gap between a point's
 * two neighbours in sorted order divided by the objective's range, summed over objectives and divided
 * by their number. Boundary points are infinitely far. Ties are broken by index (stable sort) so the
 * result is deterministic; exact duplicates of an earlier point get distance 0 (only the first copy is
 * spread), as pymoo's duplicate filtering does. Direction does not matter for this measure.
 */
import { objectiveCount } from '../../core/non-dominated-sort.js';

export function crowdingDistance(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  if (n === 0) return [];
  const m = objectiveCount(points);
  if (n <= 2) return new Array<number>(n).fill(Infinity);

  // Drop exact duplicates (keep the first copy), so copies do not shield each other: sort
  // lexicographically (ties by index) and keep a point unless it equals its predecessor.
  const lex = Array.from({ length: n }, (_, i) => i);
  lex.sort((a, b) => {
    const pa = points[a]!;
    const pb = points[b]!;
    for (let k = 0; k < m; k++) if (pa[k] !== pb[k]) return pa[k]! - pb[k]!;
    return a - b;
  });
  const isCopy = new Uint8Array(n);
  for (let r = 1; r < n; r++) {
    const pa = points[lex[r - 1]!]!;
    const pb = points[lex[r]!]!;
    let same = true;
    for (let k = 0; k < m && same; k++) same = pa[k] === pb[k];
    if (same) isCopy[lex[r]!] = 1;
  }
  const unique: number[] = [];
  for (let i = 0; i < n; i++) if (!isCopy[i]) unique.push(i);
  const out = new Array<number>(n).fill(0);
  const u = unique.length;
  if (u <= 2) {
    for (const i of unique) out[i] = Infinity;
    return out;
  }
  const sum = new Float64Array(u);
  const v = new Float64Array(u);
  const order = Array.from({ length: u }, (_, j) => j);
  for (let k = 0; k < m; k++) {
    for (let j = 0; j < u; j++) v[j] = points[unique[j]!]![k]!;
    order.sort((a, b) => v[a]! - v[b]! || a - b);
    const range = v[order[u - 1]!]! - v[order[0]!]!;
    if (range === 0) continue; // as pymoo: a constant objective adds nothing, not even at the ends
    sum[order[0]!] = Infinity;
    sum[order[u - 1]!] = Infinity;
    for (let r = 1; r < u - 1; r++) {
      const j = order[r]!;
      sum[j] = sum[j]! + (v[order[r + 1]!]! - v[order[r - 1]!]!) / range;
    }
  }
  for (let j = 0; j < u; j++) out[unique[j]!] = sum[j]! / m;
  return out;
}
