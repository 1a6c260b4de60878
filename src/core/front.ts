/**
 * The one Pareto-front function: which evaluations of a run no other dominates. The runner stores
 * it in each generation summary, the server and the dashboard show it between generations; all use
 * this function, so they agree at every generation boundary.
 */
import { nonDominatedSort } from './non-dominated-sort.js';
import { objectiveDirections, type ObjectiveSpec } from './objectives.js';
import type { EvaluationRecord } from './records.js';

/**
 * Indices of the finished evaluations that no other finished evaluation dominates on `objectives`
 * (with their directions), counting each genotype once (its first evaluation), ascending.
 */
export function paretoFront(
  records: readonly EvaluationRecord[],
  objectives: readonly ObjectiveSpec[],
): number[] {
  const seen = new Set<string>();
  const candidates: EvaluationRecord[] = [];
  for (const r of records) {
    if (r.status !== 'finished' || !r.objectives || seen.has(r.hash)) continue;
    seen.add(r.hash);
    candidates.push(r);
  }
  if (candidates.length === 0) return [];
  const fronts = nonDominatedSort(
    candidates.map((r) => r.objectives!),
    objectiveDirections(objectives),
  );
  return fronts[0]!.map((k) => candidates[k]!.index).sort((a, b) => a - b);
}
