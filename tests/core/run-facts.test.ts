/**
 * core/run-facts.ts: a run's configuration in words, and the chance check (a candidate whose clean
 * accuracy is not above 1/classes by its standard error), on records built by hand.
 */
import { describe, expect, it } from 'vitest';
import type { EvaluationRecord } from '../../src/core/records.js';
import {
  chanceChecks,
  chanceSummary,
  chanceWarning,
  configFacts,
} from '../../src/core/run-facts.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { sampleGenotype } from '../../src/core/sampling.js';
import { Rng } from '../../src/core/rng.js';

const genotype = sampleGenotype(Rng.fromSeed(1));

function record(
  index: number,
  hash: string,
  clean: number,
  n: number,
  extra: Partial<EvaluationRecord> = {},
): EvaluationRecord {
  return {
    index,
    generation: 0,
    genotype,
    hash,
    status: 'finished',
    scores: {
      clean: { accuracy: clean, stderr: Math.sqrt((clean * (1 - clean)) / n), n },
      adversarial: [],
      hrs: 0,
      params: 1,
      macs: 1,
      seconds: { train: 0, attack: 0, total: 0 },
      backend: 'wasm',
    },
    objectives: [clean],
    cached: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    ...extra,
  };
}

const real = parseSearchConfig({
  name: 'x',
  evaluator: 'real',
  evaluation: {
    dataset: 'mnist',
    channels: 4,
    layers: 3,
    epochs: 2,
    trainSize: 4000,
    valSize: 500,
    attacks: [{ name: 'pgd', eps: 0.05, steps: 5 }],
  },
  resampling: { initialSeeds: 1, maxSeeds: 12 },
  population: 8,
  generations: 13,
});

describe('configFacts', () => {
  it('says every setting that changes what is searched', () => {
    const facts = Object.fromEntries(configFacts(real).map((f) => [f.key, f.value]));
    expect(facts).toEqual({
      name: 'x',
      evaluator: 'real (each candidate trained and attacked)',
      dataset: 'mnist',
      network: '4 channels, 3 cells, 4 nodes per cell',
      training: '2 epochs on 4000 images, batch 64, lr 0.025',
      scored: '500 validation images',
      attacks: 'PGD ε=0.05, 5 steps',
      objectives: 'max clean, max pgd@0.05',
      seeds: 'search seed 0; 1 seed per new candidate, up to 12 per survivor',
      population: '8, nsga2',
      generations: '13 (numbered 0 to 12)',
    });
  });
});

describe('chanceChecks', () => {
  it('flags a candidate whose clean accuracy is within one standard error of chance', () => {
    // n = 500: at 0.11 the binomial error is 0.014 > 0.01 above chance; at 0.2 it is 0.018 < 0.1.
    const checks = chanceChecks(real, [
      record(0, 'a', 0.11, 500),
      record(1, 'b', 0.2, 500),
      record(2, 'c', 0.9, 500),
    ]);
    expect(checks.map((c) => [c.hash, c.atChance])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
    expect(checks[0]!.chance).toBe(0.1);
    expect(checks[0]!.stderr).toBeCloseTo(Math.sqrt((0.11 * 0.89) / 500), 12);
  });

  it('averages seeds (a cached copy counts once) and uses the larger of the two errors', () => {
    // Seeds 0.08 and 0.30: mean 0.19, between-seed error 0.11 (> binomial 0.018) > 0.09 above
    // chance: at chance.
    const checks = chanceChecks(real, [
      record(0, 'a', 0.08, 500, { seedIndex: 0 }),
      record(1, 'a', 0.3, 500, { seedIndex: 1 }),
      record(2, 'a', 0.3, 500, { seedIndex: 1, cached: true }),
      record(3, 'a', 0.9, 500, { status: 'failed', seedIndex: 2 }),
    ]);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ seeds: 2, index: 0, atChance: true });
    expect(checks[0]!.clean).toBeCloseTo(0.19, 12);
    expect(checks[0]!.stderr).toBeCloseTo(0.11, 12);
  });

  it('has nothing to say about a surrogate run or a data set of unknown classes', () => {
    const surrogate = parseSearchConfig({ evaluator: 'surrogate' });
    expect(chanceChecks(surrogate, [record(0, 'a', 0.1, 500)])).toEqual([]);
    const unknown = { ...real, evaluation: { ...real.evaluation, dataset: 'folder' } };
    expect(chanceChecks(unknown as typeof real, [record(0, 'a', 0.1, 500)])).toEqual([]);
  });

  it('summarises a run where most candidates are at chance', () => {
    const most = chanceSummary(
      chanceChecks(real, [
        record(0, 'a', 0.1, 500),
        record(1, 'b', 0.09, 500),
        record(2, 'c', 0.9, 500),
      ]),
    )!;
    expect(most).toEqual({ candidates: 3, atChance: 2, chance: 0.1, most: true });
    expect(chanceWarning(most)).toMatch(
      /^2 of 3 candidates have a clean accuracy not above chance \(10%\)/,
    );
    const few = chanceSummary(
      chanceChecks(real, [record(0, 'a', 0.1, 500), record(1, 'b', 0.9, 500)]),
    )!;
    expect(few.most).toBe(false);
    expect(chanceSummary([])).toBeUndefined();
  });
});
