/**
 * NSGA-II as pymoo composes it: an algorithm made of replaceable parts (sampling, mating, survival,
 * duplicate elimination), driven by ask/tell so that the runner (src/runner/) can evaluate
 * asynchronously, persist after every evaluation and resume, while `minimize` runs the same steps
 * synchronously (the ZDT benchmarks in the tests).
 *
 * The algorithm's state is plain data: the surviving population as members (individual, objective
 * values, Pareto rank, crowding distance). Every step that draws random numbers takes the Rng
 * explicitly and draws nothing else, so the candidates of a generation are a pure function of
 * (population, RNG state at the generation start).
 */
import type { Rng } from '../core/rng.js';
import { rankAndCrowdingSurvival } from './nsga2/survival.js';
import type { RankedMember } from './nsga2/tournament.js';

/** An evaluated individual: objective values in minimisation form, or null when its evaluation failed. */
export interface Evaluated<X> {
  readonly x: X;
  readonly f: readonly number[] | null;
}

/** A survivor with its Pareto rank and crowding distance, as tournament selection needs them. */
export interface Member<X> extends RankedMember {
  readonly x: X;
  readonly f: readonly number[];
}

/** Draws one random individual. */
export interface Sampling<X> {
  sample(rng: Rng): X;
}

/** Makes `count` children from the surviving population (selection and variation). */
export interface Mating<X> {
  mate(population: readonly Member<X>[], count: number, rng: Rng): X[];
}

/** Chooses who survives among parents and offspring (minimisation). */
export interface SurvivalStrategy {
  select(
    points: readonly (readonly number[])[],
    size: number,
  ): { survivors: number[]; rank: number[]; crowding: number[] };
}

/** NSGA-II's elitist survival: non-dominated sorting, then crowding distance. */
export const rankAndCrowding: SurvivalStrategy = { select: rankAndCrowdingSurvival };

export interface AlgorithmParts<X> {
  readonly sampling: Sampling<X>;
  readonly mating: Mating<X>;
  readonly survival?: SurvivalStrategy;
  /** Identity for duplicate elimination; absent: no duplicate elimination. */
  readonly key?: (x: X) => string;
}

export interface AlgorithmSizes {
  readonly populationSize: number;
  readonly offspringSize: number;
  /** Rounds of redrawing candidates that duplicate the population or each other. Default 100. */
  readonly maxRedraws?: number;
}

/**
 * An elitist (mu + lambda) evolutionary search made of parts: NSGA-II when its mating is a binary
 * tournament with crossover and mutation and its survival rank-and-crowding (the default), random
 * search when its mating draws fresh samples (see mating.ts).
 */
export class EvolutionarySearch<X> {
  private readonly survival: SurvivalStrategy;
  private readonly maxRedraws: number;

  constructor(
    private readonly parts: AlgorithmParts<X>,
    readonly sizes: AlgorithmSizes,
  ) {
    for (const k of ['populationSize', 'offspringSize'] as const) {
      if (!Number.isInteger(sizes[k]) || sizes[k] < 1) {
        throw new RangeError(`${k} must be a positive integer`);
      }
    }
    this.survival = parts.survival ?? rankAndCrowding;
    this.maxRedraws = sizes.maxRedraws ?? 100;
  }

  /**
   * The candidates to evaluate next: the initial population when `population` is undefined, else
   * the offspring of the surviving population (sampled afresh when no member survived).
   */
  ask(population: readonly Member<X>[] | undefined, rng: Rng): X[] {
    if (population === undefined) {
      return this.fill(this.sizes.populationSize, [], (n) => this.sampleMany(n, rng));
    }
    const n = this.sizes.offspringSize;
    if (population.length === 0) return this.fill(n, [], (k) => this.sampleMany(k, rng));
    return this.fill(n, population, (k) => this.parts.mating.mate(population, k, rng));
  }

  /** The next population from `pool` (parents then offspring): survivors and their pool indices. */
  tell(pool: readonly Evaluated<X>[]): { members: Member<X>[]; indices: number[] } {
    const ok = pool.flatMap((c, i) => (c.f === null ? [] : [i]));
    const s = this.survival.select(
      ok.map((i) => pool[i]!.f!),
      this.sizes.populationSize,
    );
    const indices = s.survivors.map((j) => ok[j]!);
    const members = s.survivors.map((j) => ({
      x: pool[ok[j]!]!.x,
      f: pool[ok[j]!]!.f!,
      rank: s.rank[j]!,
      crowding: s.crowding[j]!,
    }));
    return { members, indices };
  }

  private sampleMany(n: number, rng: Rng): X[] {
    return Array.from({ length: n }, () => this.parts.sampling.sample(rng));
  }

  /**
   * Draws batches until `count` individuals are collected that duplicate neither `existing` nor each
   * other; after `maxRedraws` rounds the last batch is taken as it is (an evaluation cache serves
   * any duplicate that remains).
   */
  private fill(count: number, existing: readonly { x: X }[], draw: (n: number) => X[]): X[] {
    const key = this.parts.key;
    if (!key) return draw(count);
    const seen = new Set(existing.map((e) => key(e.x)));
    const out: X[] = [];
    for (let round = 0; out.length < count; round++) {
      const batch = draw(count - out.length);
      if (round >= this.maxRedraws) {
        out.push(...batch);
        break;
      }
      for (const x of batch) {
        const k = key(x);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(x);
      }
    }
    return out;
  }
}

export interface MinimizeOptions extends AlgorithmSizes {
  /** Generations including the initial population. */
  readonly generations: number;
}

export interface MinimizeResult<X> {
  readonly population: Member<X>[];
  readonly evaluations: number;
}

/** Runs the algorithm synchronously on a problem given as an objective function (minimisation). */
export function minimize<X>(
  parts: AlgorithmParts<X>,
  evaluate: (x: X) => readonly number[],
  options: MinimizeOptions,
  rng: Rng,
): MinimizeResult<X> {
  const algorithm = new EvolutionarySearch(parts, options);
  const score = (xs: X[]): Evaluated<X>[] => xs.map((x) => ({ x, f: evaluate(x) }));
  let evaluated = score(algorithm.ask(undefined, rng));
  let evaluations = evaluated.length;
  let population = algorithm.tell(evaluated).members;
  for (let g = 1; g < options.generations; g++) {
    const children = score(algorithm.ask(population, rng));
    evaluations += children.length;
    evaluated = [...population, ...children];
    population = algorithm.tell(evaluated).members;
  }
  return { population, evaluations };
}
