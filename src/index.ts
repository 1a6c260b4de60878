export * from './core/index.js';
export * from './search/index.js';
export { SearchRun, newRunId, type SearchRunOptions } from './runner/search-run.js';
export { surrogateScores, createSurrogateEvaluate } from './evaluator/surrogate.js';
export { resolveGenotype } from './cli/genotype-resolve.js';
