/**
 * The one Pareto-front function: which candidates of a run no other dominates. The runner stores
 * it in each generation summary, the server and the dashboard show it between generations; all use
 * this function, so they agree at every generation boundary.
 */
import { candidateEstimates, type CandidateEstimate } from './candidates.js';
import { nonDominatedSort } from './non-dominated-sort.js';
import { objectiveDirections, type ObjectiveSpec } from './objectives.js';
import type { EvaluationRecord } from './records.js';

/**
 * The candidates (genotypes) with at least one finished seed that no other dominates on the means
 * of `objectives` (with their directions), ascending by their place (`index`).
 */
export function paretoFrontEstimates(
  estimates: ReadonlyMap<string, CandidateEstimate>,
  objectives: readonly ObjectiveSpec[],
): CandidateEstimate[] {
  const candidates = [...estimates.values()].filter((e) => e.seeds > 0);
  if (candidates.length === 0) return [];
  const fronts = nonDominatedSort(
    candidates.map((e) => e.mean),
    objectiveDirections(objectives),
  );
  return fronts[0]!.map((k) => candidates[k]!).sort((a, b) => a.index - b.index);
}

/**
 * Evaluation indices of the front: each genotype counted once, at its first finished evaluation,
 * judged on its means over its seeds (one seed per genotype in runs without repeated evaluation).
 */
export function paretoFront(
  records: readonly EvaluationRecord[],
  objectives: readonly ObjectiveSpec[],
): number[] {
  return paretoFrontEstimates(candidateEstimates(records, objectives), objectives).map(
    (e) => e.index,
  );
}
