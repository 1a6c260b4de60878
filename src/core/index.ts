/** The shared contract of robust-nas: plain data and pure functions, no I/O. */
export * from './genotype.js';
export * from './rng.js';
export * from './evaluation.js';
export * from './events.js';
export { InputError } from './errors.js';
export {
  fieldIssues,
  formatIssue,
  formatIssues,
  type FieldIssue,
  type IssueSource,
  type FormatIssuesOptions,
} from './issues.js';
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
export { nonDominatedSort, paretoRanks, type Direction } from './non-dominated-sort.js';
export { hypervolume } from './hypervolume.js';
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
  CROSSOVER_MODES,
  type CrossoverMode,
  type SearchConfig,
  type SearchConfigInput,
} from './search-config.js';
export {
  noiseStats,
  reliabilityAt,
  seedsForReliability,
  meanAndStderr,
  type NoiseStats,
} from './noise-stats.js';
