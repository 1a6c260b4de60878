/**
 * How noisy a running search's objectives are, estimated from its re-evaluated survivors: for each
 * objective, the one-way analysis of variance (src/core/noise-stats.ts) over the genotypes of the
 * latest surviving population that have at least two finished seeds, and the reliability of their
 * means at the seeds they have. Pure, no I/O; the server answers it and the dashboard shows it.
 */
import { candidateEstimates, type CandidateEstimate } from './candidates.js';
import { noiseStats, reliabilityAt } from './noise-stats.js';
import { objectiveLabel, type ObjectiveSpec } from './objectives.js';
import type { EvaluationRecord, GenerationSummary } from './records.js';

/** Genotypes with two seeds or more that the estimate needs at least. */
export const MIN_REEVALUATED = 2;

export interface ObjectiveNoise {
  /** The objective's label (e.g. "clean", "pgd@0.1"). */
  readonly objective: string;
  /** ICC(1): the share of one evaluation's variance that belongs to the genotype. */
  readonly icc: number;
  readonly withinSd: number;
  readonly betweenSd: number;
  /** Reliability of a mean over `seeds` seeds (Spearman-Brown). */
  readonly reliability: number;
  /** Seeds a mean needs for a reliability of 0.8; null when none does (ICC <= 0). */
  readonly seedsFor08: number | null;
}

export interface RunNoise {
  /** The generation whose surviving population the estimate comes from (null before any). */
  readonly generation: number | null;
  /** Genotypes in that population. */
  readonly survivors: number;
  /** Of them, with at least two finished seeds: the groups of the estimate. */
  readonly reevaluated: number;
  /** Finished evaluations (seeds) of those genotypes. */
  readonly values: number;
  /** Mean seeds per re-evaluated genotype: where the reliability is judged. */
  readonly seeds: number;
  /** Per objective, in the run's order; empty when there is not enough to estimate (see `reason`). */
  readonly objectives: readonly ObjectiveNoise[];
  /** Why there is no estimate yet. */
  readonly reason?: string;
}

/** The noise estimate of a run from its evaluations and its latest generation summary. */
export function runNoise(
  records: readonly EvaluationRecord[],
  objectives: readonly ObjectiveSpec[],
  generations: readonly GenerationSummary[],
): RunNoise {
  const last = generations[generations.length - 1];
  if (!last) {
    return {
      generation: null,
      survivors: 0,
      reevaluated: 0,
      values: 0,
      seeds: 0,
      objectives: [],
      reason: 'no finished generation yet',
    };
  }
  const estimates = candidateEstimates(records, objectives);
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const survivors = new Map<string, CandidateEstimate>();
  for (const i of last.population) {
    const r = byIndex.get(i);
    const e = r ? estimates.get(r.hash) : undefined;
    if (e) survivors.set(e.hash, e);
  }
  const groups = [...survivors.values()].filter((e) => e.seeds >= 2);
  const values = groups.reduce((s, e) => s + e.seeds, 0);
  const base = {
    generation: last.generation,
    survivors: survivors.size,
    reevaluated: groups.length,
    values,
    seeds: groups.length > 0 ? values / groups.length : 0,
  };
  if (groups.length < MIN_REEVALUATED) {
    return {
      ...base,
      objectives: [],
      reason: `not enough re-evaluated candidates yet (${groups.length} of the ${MIN_REEVALUATED} needed have two seeds or more)`,
    };
  }
  return {
    ...base,
    objectives: objectives.map((o, k) => {
      const stats = noiseStats(groups.map((e) => e.values.map((v) => v[k]!)));
      return {
        objective: objectiveLabel(o),
        icc: stats.icc,
        withinSd: stats.withinSd,
        betweenSd: stats.betweenSd,
        reliability: reliabilityAt(stats.icc, base.seeds),
        seedsFor08: stats.seedsFor08,
      };
    }),
  };
}
