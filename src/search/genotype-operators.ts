/**
 * The parts that make the generic engine search DARTS genotypes: uniform sampling, crossover and
 * mutation from src/search/{sampling,crossover,mutation}.ts, and duplicate elimination by canonical
 * genotype hash.
 */
import { EvolutionEngine, type Operators } from './algorithm.js';
import { genotypeHash } from '../core/canonical.js';
import { crossoverGenotypes } from './crossover.js';
import type { Genotype } from '../core/genotype.js';
import { mutateGenotype } from './mutation.js';
import { sampleGenotype } from '../core/sampling.js';
import type { SearchConfig } from '../core/search-config.js';

export function genotypeOperators(config: SearchConfig): Operators<Genotype> {
  const sampleOptions = { nodes: config.nodes, ...(config.ops ? { ops: config.ops } : {}) };
  const mutateOptions = {
    ...(config.ops ? { ops: config.ops } : {}),
    ...(config.mutationProbability !== undefined
      ? { probability: config.mutationProbability }
      : {}),
  };
  return {
    sample: (rng) => sampleGenotype(rng, sampleOptions),
    crossover: (a, b, rng) => crossoverGenotypes(a, b, rng, config.crossoverMode),
    mutate: (g, rng) => mutateGenotype(g, rng, mutateOptions),
    key: genotypeHash,
  };
}

/** NSGA-II over genotypes with the run's sizes and probabilities. */
export function createNsga2Engine(config: SearchConfig): EvolutionEngine<Genotype> {
  return new EvolutionEngine(genotypeOperators(config), {
    populationSize: config.population,
    offspringSize: config.offspring,
    strategy: 'nsga2',
    crossoverProbability: config.crossoverProbability,
    maxRedraws: config.maxRedraws,
  });
}
