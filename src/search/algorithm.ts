/**
 * The generic evolutionary engine, composed of replaceable parts as in pymoo: sampling, crossover,
 * mutation, duplicate elimination (a key per individual), evaluation and survival. It is written as
 * ask/tell steps so that the search loop (src/search/search-run.ts) can evaluate asynchronously,
 * persist after every evaluation and resume, while `minimize` runs the same steps synchronously
 * (the ZDT benchmarks in the tests).
 *
 * Every step that draws random numbers takes the Rng explicitly and draws nothing else, so the
 * offspring of a generation are a pure function of (population, RNG state at the generation start).
 */
import type { Rng } from '../core/rng.js';
import { rankAndCrowdingSurvival, type Survival } from './nsga2/survival.js';
import { binaryTournament, type RankedMember } from './nsga2/tournament.js';

export type Strategy = 'nsga2' | 'random';

export interface Operators<X> {
  /** Draws one random individual. */
  sample(rng: Rng): X;
  /** Recombines two parents into two children. Absent: children are copies of the parents. */
  crossover?(a: X, b: X, rng: Rng): readonly [X, X];
  /** Mutates one individual (returns a new one). Absent: no mutation. */
  mutate?(x: X, rng: Rng): X;
  /** Identity for duplicate elimination; absent: no duplicate elimination. */
  key?(x: X): string;
}

export interface EngineOptions {
  readonly populationSize: number;
  readonly offspringSize: number;
  /** 'nsga2' (default) breeds offspring; 'random' samples them afresh (random-search baseline). */
  readonly strategy?: Strategy;
  /** Probability that a pair of parents is recombined (otherwise copied). Default 0.9. */
  readonly crossoverProbability?: number;
  /** Rounds of redrawing offspring that duplicate the population or each other. Default 100. */
  readonly maxRedraws?: number;
}

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

export class EvolutionEngine<X> {
  readonly strategy: Strategy;
  private readonly crossoverProbability: number;
  private readonly maxRedraws: number;

  constructor(
    private readonly operators: Operators<X>,
    readonly options: EngineOptions,
  ) {
    if (!Number.isInteger(options.populationSize) || options.populationSize < 1) {
      throw new RangeError('populationSize must be a positive integer');
    }
    if (!Number.isInteger(options.offspringSize) || options.offspringSize < 1) {
      throw new RangeError('offspringSize must be a positive integer');
    }
    this.strategy = options.strategy ?? 'nsga2';
    this.crossoverProbability = options.crossoverProbability ?? 0.9;
    this.maxRedraws = options.maxRedraws ?? 100;
  }

  /** The initial population: `populationSize` samples, duplicates redrawn (bounded). */
  initialPopulation(rng: Rng): X[] {
    return this.fill(this.options.populationSize, [], (n) =>
      Array.from({ length: n }, () => this.operators.sample(rng)),
    );
  }

  /** The offspring of one generation, from the current (surviving) population. */
  offspring(population: readonly Member<X>[], rng: Rng): X[] {
    const n = this.options.offspringSize;
    if (this.strategy === 'random' || population.length === 0) {
      return this.fill(n, population, (k) =>
        Array.from({ length: k }, () => this.operators.sample(rng)),
      );
    }
    return this.fill(n, population, (k) => this.breed(population, k, rng));
  }

  /** Elitist survival: which of `candidates` (parents then offspring) form the next population. */
  survive(candidates: readonly Evaluated<X>[]): { members: Member<X>[]; indices: number[] } {
    const ok = candidates.flatMap((c, i) => (c.f === null ? [] : [i]));
    const s: Survival = rankAndCrowdingSurvival(
      ok.map((i) => candidates[i]!.f!),
      this.options.populationSize,
    );
    const indices = s.survivors.map((j) => ok[j]!);
    const members = s.survivors.map((j) => ({
      x: candidates[ok[j]!]!.x,
      f: candidates[ok[j]!]!.f!,
      rank: s.rank[j]!,
      crowding: s.crowding[j]!,
    }));
    return { members, indices };
  }

  /** Tournament selection, crossover and mutation of `count` children. */
  private breed(population: readonly Member<X>[], count: number, rng: Rng): X[] {
    const { crossover, mutate } = this.operators;
    const pairs = Math.ceil(count / 2);
    const parents = binaryTournament(population, 2 * pairs, rng);
    const children: X[] = [];
    for (let p = 0; p < pairs; p++) {
      const a = population[parents[2 * p]!]!.x;
      const b = population[parents[2 * p + 1]!]!.x;
      const pair: readonly [X, X] =
        crossover && rng.bool(this.crossoverProbability) ? crossover(a, b, rng) : [a, b];
      children.push(...pair);
    }
    children.length = count;
    return mutate ? children.map((c) => mutate(c, rng)) : children;
  }

  /**
   * Draws batches until `count` individuals are collected that duplicate neither `existing` nor each
   * other; after `maxRedraws` rounds the last batch is taken as it is (an evaluation cache serves
   * any duplicate that remains).
   */
  private fill(count: number, existing: readonly { x: X }[], draw: (n: number) => X[]): X[] {
    const key = this.operators.key;
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

export interface MinimizeOptions extends EngineOptions {
  /** Generations including the initial population. */
  readonly generations: number;
}

export interface MinimizeResult<X> {
  readonly population: Member<X>[];
  readonly evaluations: number;
}

/** Runs the engine synchronously on a problem given as an objective function (minimisation). */
export function minimize<X>(
  operators: Operators<X>,
  evaluate: (x: X) => readonly number[],
  options: MinimizeOptions,
  rng: Rng,
): MinimizeResult<X> {
  const engine = new EvolutionEngine(operators, options);
  const score = (xs: X[]): Evaluated<X>[] => xs.map((x) => ({ x, f: evaluate(x) }));
  let evaluated = score(engine.initialPopulation(rng));
  let evaluations = evaluated.length;
  let population = engine.survive(evaluated).members;
  for (let g = 1; g < options.generations; g++) {
    const children = score(engine.offspring(population, rng));
    evaluations += children.length;
    evaluated = [...population, ...children];
    population = engine.survive(evaluated).members;
  }
  return { population, evaluations };
}
