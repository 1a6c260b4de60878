/**
 * Elitist (mu + lambda) survival of NSGA-II: parents and offspring are sorted into Pareto fronts; whole
 * fronts survive while they fit, and the first front that does not fit is cut by crowding distance
 * (largest first, ties by position so the result is deterministic).
 */
import { crowdingDistance } from './crowding-distance.js';
import { nonDominatedSort } from '../../core/non-dominated-sort.js';

export interface SurvivalResult {
  /** Indices of the survivors, ascending. */
  readonly survivors: number[];
  /** Pareto rank of every input point (from 0). */
  readonly rank: number[];
  /** Crowding distance of every input point within its front (computed on the whole front). */
  readonly crowding: number[];
}

/** Keeps `size` of the points (minimisation). */
export function rankAndCrowdingSurvival(
  points: readonly (readonly number[])[],
  size: number,
): SurvivalResult {
  const n = points.length;
  const rank = new Array<number>(n).fill(0);
  const crowding = new Array<number>(n).fill(0);
  const survivors: number[] = [];
  const fronts = nonDominatedSort(points);
  fronts.forEach((front, r) => {
    const cd = crowdingDistance(front.map((i) => points[i]!));
    front.forEach((i, j) => {
      rank[i] = r;
      crowding[i] = cd[j]!;
    });
    const room = size - survivors.length;
    if (room <= 0) return;
    if (front.length <= room) {
      survivors.push(...front);
    } else {
      const byCrowding = front
        .map((i, j) => ({ i, d: cd[j]! }))
        .sort((a, b) => (a.d === b.d ? a.i - b.i : b.d > a.d ? 1 : -1));
      survivors.push(...byCrowding.slice(0, room).map((e) => e.i));
    }
  });
  survivors.sort((a, b) => a - b);
  return { survivors, rank, crowding };
}
