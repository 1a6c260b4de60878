/** The search algorithm alone: NSGA-II's parts and the genotype operators. No I/O. */
export { mutateGenotype, type MutateOptions } from './mutation.js';
export { crossoverGenotypes } from './crossover.js';
export { crowdingDistance } from './nsga2/crowding-distance.js';
export { rankAndCrowdingSurvival, type SurvivalResult } from './nsga2/survival.js';
export { binaryTournament } from './nsga2/tournament.js';
export {
  EvolutionarySearch,
  minimize,
  rankAndCrowding,
  type AlgorithmParts,
  type AlgorithmSizes,
  type Evaluated,
  type Mating,
  type Member,
  type Sampling,
  type SurvivalStrategy,
} from './algorithm.js';
export { tournamentMating, randomMating, type Variation } from './mating.js';
export { createAlgorithm, genotypeSampling } from './genotype-operators.js';
