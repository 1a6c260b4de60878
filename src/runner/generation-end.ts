/**
 * The end of a generation, as a pure function of what is stored: survival among the parents and the
 * generation's candidates (the algorithm's tell), the Pareto front of every evaluation so far, its
 * hypervolume, the generation's summary and the checkpoint the next generation starts from.
 */
import { paretoFront } from '../core/front.js';
import type { Genotype } from '../core/genotype.js';
import { hypervolume } from '../core/hypervolume.js';
import { objectiveDirections, referencePoint, toMinimisation } from '../core/objectives.js';
import type { Checkpoint, GenerationSummary, StoredEvaluation } from '../core/records.js';
import type { SearchConfig } from '../core/search-config.js';
import type { Evaluated, Member, Nsga2 } from '../search/algorithm.js';

export interface GenerationEnd {
  readonly summary: GenerationSummary;
  readonly checkpoint: Checkpoint;
}

/**
 * @param cp the checkpoint the generation started from
 * @param evaluations every evaluation stored, the generation's `count` candidates included
 * @param nextRngState the RNG state after the generation's candidates and seeds were drawn
 */
export function endOfGeneration(
  config: SearchConfig,
  algorithm: Nsga2<Genotype>,
  cp: Checkpoint,
  evaluations: readonly StoredEvaluation[],
  count: number,
  nextRngState: Checkpoint['rngState'],
): GenerationEnd {
  const start = cp.evaluationsAtStart;
  const pool = [...cp.population, ...Array.from({ length: count }, (_, i) => start + i)];
  const evaluated: Evaluated<Genotype>[] = pool.map((index) => {
    const r = evaluations[index]!;
    return {
      x: r.genotype,
      f: r.objectives ? toMinimisation(config.objectives, r.objectives) : null,
    };
  });
  const survival = algorithm.tell(evaluated);
  const population = survival.indices.map((k) => pool[k]!);
  const reference =
    cp.reference ??
    referencePoint(
      config.objectives,
      evaluations.flatMap((r) => (r.objectives ? [r.objectives] : [])),
    );
  const front = paretoFront(evaluations, config.objectives);
  const summary: GenerationSummary = {
    generation: cp.generation,
    population,
    front,
    hypervolume: hypervolume(
      front.map((i) => evaluations[i]!.objectives!),
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

/** The members of a checkpointed population, with the ranks and crowding distances it stored. */
export function populationMembers(
  config: SearchConfig,
  cp: Checkpoint,
  evaluations: readonly StoredEvaluation[],
): Member<Genotype>[] {
  return cp.population.map((index, k) => {
    const r = evaluations[index]!;
    return {
      x: r.genotype,
      f: toMinimisation(config.objectives, r.objectives ?? []),
      rank: cp.rank?.[k] ?? 0,
      crowding: cp.crowding?.[k] ?? Infinity,
    };
  });
}
