export * from './genotype.js';
export * from './rng.js';
export * from './evaluation.js';
export * from './events.js';
export { parseGenotype } from './genotype-parse.js';
export { formatGenotype, GENOTYPE_FORMATS, type GenotypeFormat } from './genotype-format.js';
export { validateGenotype, genotypeProblems } from './genotype-validate.js';
export {
  PUBLISHED_GENOTYPES,
  PUBLISHED_GENOTYPE_NAMES,
  getPublishedGenotype,
  type PublishedGenotype,
} from './published-genotypes.js';
export { canonicalGenotype, genotypeHash, sameGenotype } from './canonical.js';
export { sampleGenotype, SAMPLING_OPS, type SampleOptions } from './sampling.js';
export { mutateGenotype, type MutateOptions } from './mutation.js';
export { crossoverGenotypes, CROSSOVER_MODES, type CrossoverMode } from './crossover.js';
export { resolveGenotype } from './genotype-resolve.js';
export { nonDominatedSort, paretoRanks, type Direction } from './nsga2/non-dominated-sort.js';
export { crowdingDistance } from './nsga2/crowding-distance.js';
export { hypervolume } from './nsga2/hypervolume.js';
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
export { zdt1, zdt2, zdt3, type RealProblem } from './problems/zdt.js';
export { realOperators, sbx, polynomialMutation } from './problems/real-operators.js';
export {
  OBJECTIVE_METRICS,
  DEFAULT_SEARCH_EPS,
  objectiveSpecSchema,
  objectiveLabel,
  objectiveValue,
  parseObjectiveList,
  referencePoint,
  type ObjectiveSpec,
  type ObjectiveMetric,
} from './objectives.js';
export {
  searchConfigSchema,
  parseSearchConfig,
  plannedEvaluations,
  type SearchConfig,
  type SearchConfigInput,
} from './search-config.js';
export { SearchRun, newRunId, type SearchRunOptions } from './search-run.js';
export { surrogateScores, createSurrogateEvaluate } from './surrogate.js';
export { EvaluationCache, evalConfigHash } from './evaluation-cache.js';
export { runSearchOverheadBench, type SearchOverheadBench } from './search-overhead-bench.js';
