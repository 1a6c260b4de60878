import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { candidateEstimates } from '../../src/core/candidates.js';
import { noiseStats } from '../../src/core/noise-stats.js';
import { Rng } from '../../src/core/rng.js';
import { sampleGenotype } from '../../src/core/sampling.js';
import { commonSeed } from '../../src/core/seeds.js';
import { parseSearchConfig, type SearchConfigInput } from '../../src/core/search-config.js';
import { noisySurrogateScores, surrogateScores } from '../../src/evaluator/surrogate.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function search(config: SearchConfigInput) {
  const dir = await mkdtemp(join(tmpdir(), 'robust-nas-allocation-'));
  dirs.push(dir);
  const storage = new FileRunStorage(dir);
  const run = await SearchRun.create(config, { storage, runId: 'x' });
  await run.run();
  expect(run.status()).toBe('completed');
  return storage.read('x');
}

const TEST_BED: SearchConfigInput = {
  evaluator: 'surrogate',
  population: 6,
  generations: 5,
  seed: 3,
  surrogateIcc: { clean: 0.5, robust: 0.2, common: 0.3 },
};

describe('the noisy test bed', () => {
  it('gives the configured ICC per objective, deterministically, around the true figures', () => {
    const config = parseSearchConfig(TEST_BED).evaluation;
    const rng = Rng.fromSeed('icc check');
    const genotypes = Array.from({ length: 60 }, () => sampleGenotype(rng));
    const seeds = [11, 22, 33, 44, 55, 66];
    const icc = { clean: 0.5, robust: 0.2 };
    const clean = genotypes.map((g) =>
      seeds.map((s) => noisySurrogateScores(g, config, s, icc).clean.accuracy),
    );
    const robust = genotypes.map((g) =>
      seeds.map((s) => noisySurrogateScores(g, config, s, icc).adversarial[0]!.accuracy),
    );
    // 60 genotypes x 6 seeds: the estimates land within about 0.1 of the configured ICC.
    expect(noiseStats(clean).icc).toBeGreaterThan(0.38);
    expect(noiseStats(clean).icc).toBeLessThan(0.62);
    expect(noiseStats(robust).icc).toBeGreaterThan(0.1);
    expect(noiseStats(robust).icc).toBeLessThan(0.32);
    // Same inputs, same scores; the mean over seeds approaches the noise-free figure.
    const g = genotypes[0]!;
    expect(noisySurrogateScores(g, config, 5, icc)).toEqual(
      noisySurrogateScores(g, config, 5, icc),
    );
    const many = Array.from({ length: 400 }, (_, s) => noisySurrogateScores(g, config, s, icc));
    const mean = many.reduce((a, x) => a + x.clean.accuracy, 0) / many.length;
    expect(Math.abs(mean - surrogateScores(g, config).clean.accuracy)).toBeLessThan(0.02);
  });
});

describe('allocation strategies in a search', () => {
  it('racing: at most `budget` re-evaluations per generation, over the archive, deterministic', async () => {
    const config: SearchConfigInput = {
      ...TEST_BED,
      resampling: { initialSeeds: 1, maxSeeds: 6, allocation: 'racing', budget: 2 },
    };
    const a = await search(config);
    const b = await search(config);
    expect(a.evaluations.map((e) => [e.hash, e.seedIndex, e.objectives])).toEqual(
      b.evaluations.map((e) => [e.hash, e.seedIndex, e.objectives]),
    );
    for (let g = 1; g < 5; g++) {
      const again = a.evaluations.filter((e) => e.generation === g && (e.seedIndex ?? 0) > 0);
      expect(again.length).toBeLessThanOrEqual(2);
    }
    expect(a.evaluations.some((e) => (e.seedIndex ?? 0) > 0)).toBe(true);
  });

  it('common seeds: the k-th seed of every candidate is the same training seed', async () => {
    const data = await search({
      ...TEST_BED,
      resampling: { initialSeeds: 2, maxSeeds: 3, commonSeeds: true },
    });
    const byIndex = new Map<number, Set<number>>();
    for (const e of data.evaluations) {
      const k = e.seedIndex ?? 0;
      if (!byIndex.has(k)) byIndex.set(k, new Set());
      byIndex.get(k)!.add(e.seed!);
    }
    expect(byIndex.get(0)).toEqual(new Set([commonSeed(3, 0)]));
    expect(byIndex.get(1)).toEqual(new Set([commonSeed(3, 1)]));
    expect(commonSeed(3, 0)).not.toBe(commonSeed(3, 1));
    // More than one candidate shares them.
    const parsed = parseSearchConfig(TEST_BED);
    expect(candidateEstimates(data.evaluations, parsed.objectives).size).toBeGreaterThan(2);
  });
});
