/**
 * Exact hypervolume: the volume of objective space dominated by the points and bounded by the
 * reference point. 2-D by a sort and sweep (O(n log n)); 3-D and higher by sweeping the last objective
 * and summing the (d-1)-dimensional volume of each slab (exact; O(n^2 log n) in 3-D).
 */
import { InputError } from './errors.js';
import { directionSigns, objectiveCount, type Direction } from './non-dominated-sort.js';

export function hypervolume(
  points: readonly (readonly number[])[],
  reference: readonly number[],
  directions?: readonly Direction[],
): number {
  const m = reference.length;
  if (m === 0) throw new InputError('the hypervolume reference point is empty');
  if (reference.some((r) => !Number.isFinite(r))) {
    throw new InputError('the hypervolume reference point must be finite');
  }
  if (points.length === 0) return 0;
  if (objectiveCount(points) !== m) {
    throw new InputError(`points have ${points[0]!.length} objectives, the reference ${m}`);
  }
  const signs = directionSigns(m, directions);
  const ref = reference.map((r, k) => signs[k]! * r);
  // Only points strictly better than the reference in every objective add volume.
  const inside: number[][] = [];
  for (const p of points) {
    const q = p.map((v, k) => signs[k]! * v);
    if (q.every((v, k) => v < ref[k]!)) inside.push(q);
  }
  return volume(inside, ref, m);
}

function volume(points: number[][], ref: readonly number[], d: number): number {
  if (points.length === 0) return 0;
  if (d === 1) return ref[0]! - Math.min(...points.map((p) => p[0]!));
  if (d === 2) return area(points, ref);
  const k = d - 1;
  const sorted = [...points].sort((a, b) => a[k]! - b[k]!);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const z = sorted[i]![k]!;
    const next = i + 1 < sorted.length ? sorted[i + 1]![k]! : ref[k]!;
    if (next === z) continue;
    total += volume(sorted.slice(0, i + 1), ref, k) * (next - z);
  }
  return total;
}

/** 2-D area dominated by the points (minimisation) up to the reference. */
function area(points: number[][], ref: readonly number[]): number {
  const sorted = [...points].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let total = 0;
  let bestY = ref[1]!;
  for (let i = 0; i < sorted.length; i++) {
    const [x, y] = sorted[i]!;
    if (y! < bestY) {
      // Adds the strip from x to ref[0] between y and bestY.
      total += (ref[0]! - x!) * (bestY - y!);
      bestY = y!;
    }
  }
  return total;
}
