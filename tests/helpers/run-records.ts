/** Real run files and evaluation records (surrogate scores of sampled genotypes) for storage tests. */
import { genotypeHash } from '../../src/core/canonical.js';
import { newRunFile, type RunFile, type StoredEvaluation } from '../../src/core/records.js';
import { Rng } from '../../src/core/rng.js';
import { sampleGenotype } from '../../src/core/sampling.js';
import { parseSearchConfig, type SearchConfigInput } from '../../src/core/search-config.js';
import { surrogateScores } from '../../src/evaluator/surrogate.js';

/** A new run file (status 'created') for a surrogate search. */
export function makeRunFile(id: string, config: SearchConfigInput = {}): RunFile {
  const parsed = parseSearchConfig({
    evaluator: 'surrogate',
    population: 4,
    generations: 3,
    ...config,
  });
  return newRunFile(id, parsed);
}

/** `count` evaluation records from index `from`, deterministic in `seed`. */
export function makeRecords(count: number, from = 0, seed = 'records'): StoredEvaluation[] {
  const rng = Rng.fromSeed(`${seed}:${from}`);
  const config = parseSearchConfig({ evaluator: 'surrogate' }).evaluation;
  return Array.from({ length: count }, (_, k) => {
    const genotype = sampleGenotype(rng);
    const scores = surrogateScores(genotype, config);
    const t = new Date(Date.UTC(2025, 0, 1, 0, 0, from + k)).toISOString();
    return {
      index: from + k,
      generation: Math.floor((from + k) / 4),
      genotype,
      hash: genotypeHash(genotype),
      status: 'finished' as const,
      scores,
      objectives: [scores.clean.accuracy, scores.adversarial[0]!.accuracy],
      cached: false,
      seed: rng.seed32(),
      startedAt: t,
      finishedAt: t,
    };
  });
}
