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
