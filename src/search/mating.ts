/**
 * Matings: how the offspring of a generation are made from the surviving population. NSGA-II's
 * is tournament selection, crossover and mutation; random search's samples afresh and ignores the
 * population (the founding study's and DARTS's random baseline, on the same machinery).
 */
import type { Rng } from '../core/rng.js';
import type { Mating, Member, Sampling } from './algorithm.js';
import { binaryTournament } from './nsga2/tournament.js';

export interface Variation<X> {
  /** Recombines two parents into two children. Absent: children are copies of the parents. */
  crossover?(a: X, b: X, rng: Rng): readonly [X, X];
  /** Mutates one individual (returns a new one). Absent: no mutation. */
  mutate?(x: X, rng: Rng): X;
  /** Probability that a pair of parents is recombined (otherwise copied). Default 0.9. */
  crossoverProbability?: number;
}

/** Binary tournament selection, then crossover of pairs, then mutation of every child. */
export function tournamentMating<X>(variation: Variation<X>): Mating<X> {
  const { crossover, mutate } = variation;
  const pc = variation.crossoverProbability ?? 0.9;
  return {
    mate(population: readonly Member<X>[], count: number, rng: Rng): X[] {
      const pairs = Math.ceil(count / 2);
      const parents = binaryTournament(population, 2 * pairs, rng);
      const children: X[] = [];
      for (let p = 0; p < pairs; p++) {
        const a = population[parents[2 * p]!]!.x;
        const b = population[parents[2 * p + 1]!]!.x;
        children.push(...(crossover && rng.bool(pc) ? crossover(a, b, rng) : [a, b]));
      }
      children.length = count;
      return mutate ? children.map((c) => mutate(c, rng)) : children;
    },
  };
}

/** Random search: every child is a fresh sample. */
export function randomMating<X>(sampling: Sampling<X>): Mating<X> {
  return {
    mate: (_population, count, rng) => Array.from({ length: count }, () => sampling.sample(rng)),
  };
}
