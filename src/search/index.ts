/** The search algorithm alone: NSGA-II's parts and the genotype operators. No I/O. */
export { mutateGenotype, type MutateOptions } from './mutation.js';
export { crossoverGenotypes } from './crossover.js';
export { crowdingDistance } from './nsga2/crowding-distance.js';
export { rankAndCrowdingSurvival, type Survival } from './nsga2/survival.js';
export { binaryTournament } from './nsga2/tournament.js';
export {
  EvolutionEngine,
  minimize,
  type Operators,
  type EngineOptions,
  type Evaluated,
  type Member,
  type Strategy,
} from './algorithm.js';
