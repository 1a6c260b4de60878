/**
 * The end of a generation, as a pure function of what is stored: survival among the parents and the
 * generation's candidates (the algorithm's tell, on the candidates' means over their seeds), the
 * Pareto front of every candidate so far, its hypervolume, the generation's summary and the
 * checkpoint the next generation starts from; and which survivors the next generation evaluates
 * again (repeated evaluation).
 */
import {
  candidateEstimates,
  pooledSeedVariance,
  type CandidateEstimate,
} from '../core/candidates.js';
import { paretoFrontEstimates } from '../core/front.js';
import type { Genotype } from '../core/genotype.js';
import { hypervolume } from '../core/hypervolume.js';
import { objectiveDirections, referencePoint, toMinimisation } from '../core/objectives.js';
import type { Checkpoint, GenerationSummary, StoredEvaluation } from '../core/records.js';
import type { SearchConfig } from '../core/search-config.js';
import type { Evaluated, Member, EvolutionarySearch } from '../search/algorithm.js';
import { racingChoice } from '../search/allocation.js';

export interface GenerationEnd {
  readonly summary: GenerationSummary;
  readonly checkpoint: Checkpoint;
}

function minimisedMean(config: SearchConfig, e: CandidateEstimate | undefined) {
  return e && e.seeds > 0 ? toMinimisation(config.objectives, e.mean) : null;
}

/**
 * @param cp the checkpoint the generation started from
 * @param evaluations every evaluation stored, the generation's included
 * @param candidates evaluation indices of the generation's new candidates (the first evaluation of
 *   each), in the order the algorithm asked for them
 * @param nextRngState the RNG state after the generation's candidates and seeds were drawn
 */
export function endOfGeneration(
  config: SearchConfig,
  algorithm: EvolutionarySearch<Genotype>,
  cp: Checkpoint,
  evaluations: readonly StoredEvaluation[],
  candidates: readonly number[],
  nextRngState: Checkpoint['rngState'],
): GenerationEnd {
  const estimates = candidateEstimates(evaluations, config.objectives);
  const pool = [...cp.population, ...candidates];
  const evaluated: Evaluated<Genotype>[] = pool.map((index) => {
    const r = evaluations[index]!;
    return { x: r.genotype, f: minimisedMean(config, estimates.get(r.hash)) };
  });
  const survival = algorithm.tell(evaluated);
  const population = survival.indices.map((k) => pool[k]!);
  const reference =
    cp.reference ??
    referencePoint(
      config.objectives,
      evaluations.flatMap((r) => (r.objectives ? [r.objectives] : [])),
    );
  const front = paretoFrontEstimates(estimates, config.objectives);
  const summary: GenerationSummary = {
    generation: cp.generation,
    population,
    front: front.map((e) => e.index),
    hypervolume: hypervolume(
      front.map((e) => e.mean),
      reference,
      objectiveDirections(config.objectives),
    ),
    evaluations: evaluations.length,
  };
  const checkpoint: Checkpoint = {
    generation: cp.generation + 1,
    rngState: nextRngState,
    evaluationsAtStart: evaluations.length,
    population,
    rank: survival.members.map((m) => m.rank),
    crowding: survival.members.map((m) => (Number.isFinite(m.crowding) ? m.crowding : null)),
    reference,
  };
  return { summary, checkpoint };
}

/**
 * The members of a checkpointed population, with the ranks and crowding distances it stored (their
 * means as they were when the generation started).
 */
export function populationMembers(
  config: SearchConfig,
  cp: Checkpoint,
  evaluations: readonly StoredEvaluation[],
): Member<Genotype>[] {
  const estimates = candidateEstimates(evaluations, config.objectives, cp.evaluationsAtStart);
  return cp.population.map((index, k) => {
    const r = evaluations[index]!;
    return {
      x: r.genotype,
      f: minimisedMean(config, estimates.get(r.hash)) ?? [],
      rank: cp.rank?.[k] ?? 0,
      crowding: cp.crowding?.[k] ?? Infinity,
    };
  });
}

/** One more seed of a surviving candidate. */
export interface Reevaluation {
  readonly genotype: Genotype;
  readonly hash: string;
  readonly seedIndex: number;
}

/**
 * The survivors the generation starting at `cp` evaluates once more: each genotype of the population
 * with fewer than `maxSeeds` seeds evaluated (as stored when the generation started), once, in
 * ascending order of its place (the index of its first finished evaluation). None in generation 0.
 */
export function reevaluations(
  config: SearchConfig,
  cp: Checkpoint,
  evaluations: readonly StoredEvaluation[],
): Reevaluation[] {
  const { maxSeeds } = config.resampling;
  if (cp.generation === 0 || cp.population.length === 0) return [];
  const estimates = candidateEstimates(evaluations, config.objectives, cp.evaluationsAtStart);
  if (config.resampling.allocation === 'racing') return racingReevaluations(config, estimates);
  const members = new Map<string, CandidateEstimate>();
  for (const index of cp.population) {
    const e = estimates.get(evaluations[index]!.hash);
    if (e && e.seeds > 0 && e.evaluatedSeeds < maxSeeds) members.set(e.hash, e);
  }
  return [...members.values()]
    .sort((a, b) => a.index - b.index)
    .map((e) => ({ genotype: e.genotype, hash: e.hash, seedIndex: e.evaluatedSeeds }));
}

/**
 * Racing (resampling.allocation 'racing'): among every candidate evaluated so far (the archive, not
 * only the survivors), the ones whose front membership is most uncertain get one more seed, at most
 * `budget` per generation (src/search/allocation.ts). Until some candidate has two seeds the run
 * knows no seed noise, so nothing counts as settled yet: the budget goes to the most uncertain.
 */
function racingReevaluations(
  config: SearchConfig,
  estimates: ReadonlyMap<string, CandidateEstimate>,
): Reevaluation[] {
  const all = [...estimates.values()].filter((e) => e.seeds > 0);
  const noiseKnown = pooledSeedVariance(all, config.objectives.length).every(
    (v) => v !== undefined,
  );
  const chosen = racingChoice(
    all.map((e) => ({
      mean: toMinimisation(config.objectives, e.mean),
      stderr: e.stderr,
      evaluatedSeeds: e.evaluatedSeeds,
    })),
    {
      budget: config.resampling.budget ?? Math.ceil(config.population / 2),
      maxSeeds: config.resampling.maxSeeds,
      settled: noiseKnown ? 0.05 : 0,
    },
  );
  return chosen
    .map((i) => all[i]!)
    .sort((a, b) => a.index - b.index)
    .map((e) => ({ genotype: e.genotype, hash: e.hash, seedIndex: e.evaluatedSeeds }));
}
