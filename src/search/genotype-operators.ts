/**
 * The parts that make NSGA-II search DARTS genotypes: uniform sampling of the DARTS space
 * (src/core/sampling.ts), crossover and mutation (src/search/{crossover,mutation}.ts), duplicate
 * elimination by canonical genotype hash, and the run's mating: tournament breeding for 'nsga2',
 * fresh samples for 'random' (the random-search baseline on the same machinery: same evaluation,
 * cache, persistence and survival, so its population and front are comparable).
 */
import { genotypeHash } from '../core/canonical.js';
import type { Genotype } from '../core/genotype.js';
import { sampleGenotype } from '../core/sampling.js';
import type { SearchConfig } from '../core/search-config.js';
import { EvolutionarySearch, type Sampling } from './algorithm.js';
import { crossoverGenotypes } from './crossover.js';
import { randomMating, tournamentMating } from './mating.js';
import { mutateGenotype } from './mutation.js';

export function genotypeSampling(config: SearchConfig): Sampling<Genotype> {
  const options = { nodes: config.nodes, ...(config.ops ? { ops: config.ops } : {}) };
  return { sample: (rng) => sampleGenotype(rng, options) };
}

/** The search algorithm a run's config asks for. */
export function createAlgorithm(config: SearchConfig): EvolutionarySearch<Genotype> {
  const sampling = genotypeSampling(config);
  const mutateOptions = {
    ...(config.ops ? { ops: config.ops } : {}),
    ...(config.mutationProbability !== undefined
      ? { probability: config.mutationProbability }
      : {}),
  };
  const mating =
    config.strategy === 'random'
      ? randomMating(sampling)
      : tournamentMating<Genotype>({
          crossover: (a, b, rng) => crossoverGenotypes(a, b, rng, config.crossoverMode),
          mutate: (g, rng) => mutateGenotype(g, rng, mutateOptions),
          crossoverProbability: config.crossoverProbability,
        });
  return new EvolutionarySearch(
    { sampling, mating, key: genotypeHash },
    {
      populationSize: config.population,
      offspringSize: config.offspring,
      maxRedraws: config.maxRedraws,
    },
  );
}
