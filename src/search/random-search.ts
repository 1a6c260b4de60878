/**
 * The random-search baseline (the founding study's, and DARTS's): every generation samples fresh
 * genotypes uniformly instead of breeding them. It runs on the same machinery as NSGA-II (same
 * evaluation, cache, duplicate elimination, persistence and survival, so the population and front
 * it reports are comparable), only the offspring differ.
 */
import { EvolutionEngine } from './algorithm.js';
import { genotypeHash } from './canonical.js';
import type { Genotype } from './genotype.js';
import { sampleGenotype } from './sampling.js';
import type { SearchConfig } from './search-config.js';

export function createRandomSearchEngine(config: SearchConfig): EvolutionEngine<Genotype> {
  const sampleOptions = { nodes: config.nodes, ...(config.ops ? { ops: config.ops } : {}) };
  return new EvolutionEngine<Genotype>(
    { sample: (rng) => sampleGenotype(rng, sampleOptions), key: genotypeHash },
    {
      populationSize: config.population,
      offspringSize: config.offspring,
      strategy: 'random',
      maxRedraws: config.maxRedraws,
    },
  );
}
