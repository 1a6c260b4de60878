/**
 * The random-search baseline (the founding study's, and DARTS's): every generation samples fresh
 * genotypes uniformly instead of breeding them. It runs on the same machinery as NSGA-II (same
 * evaluation, cache, duplicate elimination, persistence and survival, so the population and front
 * it reports are comparable), only the offspring differ.
 */
import { EvolutionEngine } from './algorithm.js';
import type { Genotype } from '../core/genotype.js';
import { genotypeOperators } from './genotype-operators.js';
import type { SearchConfig } from '../core/search-config.js';

/** The 'random' strategy only samples (and deduplicates by hash); it never breeds. */
export function createRandomSearchEngine(config: SearchConfig): EvolutionEngine<Genotype> {
  return new EvolutionEngine<Genotype>(genotypeOperators(config), {
    populationSize: config.population,
    offspringSize: config.offspring,
    strategy: 'random',
    maxRedraws: config.maxRedraws,
  });
}
