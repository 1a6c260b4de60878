import { describe, expect, it } from 'vitest';
import {
  meanAndStderr,
  noiseStats,
  reliabilityAt,
  seedsForReliability,
} from '../../src/core/noise-stats.js';

describe('noise statistics (one-way ANOVA, ICC(1), Spearman-Brown)', () => {
  it('matches a hand-computed example: 3 genotypes x 3 seeds', () => {
    // Means 0.6, 0.2, 0.85; grand mean 0.55. SSB = 3 (0.05^2 + 0.35^2 + 0.3^2) = 0.645, MSB = 0.3225.
    // SSW = 0.02 + 0.02 + 0.005 = 0.045, MSW = 0.045 / 6 = 0.0075.
    // ICC = (0.3225 - 0.0075) / (0.3225 + 2 * 0.0075) = 0.315 / 0.3375 = 0.93333...
    const s = noiseStats([
      [0.5, 0.6, 0.7],
      [0.2, 0.3, 0.1],
      [0.9, 0.8, 0.85],
    ]);
    expect(s.groups).toBe(3);
    expect(s.values).toBe(9);
    expect(s.mean).toBeCloseTo(0.55, 12);
    expect(s.icc).toBeCloseTo(0.315 / 0.3375, 12);
    expect(s.withinSd).toBeCloseTo(Math.sqrt(0.0075), 12);
    expect(s.betweenSd).toBeCloseTo(Math.sqrt((0.3225 - 0.0075) / 3), 12);
    expect(s.seedsFor08).toBe(1);
  });

  it('gives a negative ICC and no seed count when genotypes do not differ at all', () => {
    // Every genotype's mean is 0.5: MSB = 0, MSW = (4 * 0.25) / 3; ICC = -MSW / MSW = -1.
    const s = noiseStats([
      [0, 1],
      [1, 0],
      [0.5, 0.5],
    ]);
    expect(s.icc).toBeCloseTo(-1, 12);
    expect(s.betweenSd).toBe(0);
    expect(s.seedsFor08).toBeNull();
  });

  it('handles unequal seed counts with the n0 of unbalanced designs', () => {
    // Groups [1, 3] (mean 2) and [5] (mean 5); N = 3, grand mean 3.
    // SSB = 2 * 1 + 1 * 4 = 6, MSB = 6; SSW = 2, MSW = 2 / 1 = 2; n0 = (3 - 5 / 3) / 1 = 4 / 3.
    // ICC = (6 - 2) / (6 + (4/3 - 1) * 2) = 4 / (20 / 3) = 0.6.
    const s = noiseStats([[1, 3], [5]]);
    expect(s.icc).toBeCloseTo(0.6, 12);
    expect(s.betweenSd).toBeCloseTo(Math.sqrt((6 - 2) / (4 / 3)), 12);
  });

  it('projects reliability with Spearman-Brown and inverts it', () => {
    expect(reliabilityAt(0.5, 4)).toBeCloseTo(0.8, 12);
    expect(seedsForReliability(0.5)).toBe(4);
    // 0.8 * 0.75 / (0.25 * 0.2) = 12 exactly: rounding must not make it 13.
    expect(seedsForReliability(0.25)).toBe(12);
    expect(reliabilityAt(0.25, 12)).toBeCloseTo(0.8, 12);
    expect(reliabilityAt(0.25, 11)).toBeLessThan(0.8);
    // The measured PGD ICC on the demo settings: 0.06 needs 63 seeds.
    expect(seedsForReliability(0.06)).toBe(63);
    expect(reliabilityAt(-0.2, 3)).toBe(0);
    expect(seedsForReliability(0)).toBeNull();
  });

  it('refuses what it cannot estimate, naming it', () => {
    expect(() => noiseStats([[0.1, 0.2]])).toThrow(/at least 2 genotypes/);
    expect(() => noiseStats([[0.1], [0.2]])).toThrow(/2 seeds/);
    expect(() => noiseStats([[0.1, NaN], [0.2]])).toThrow(/finite/);
  });

  it('gives the mean and its standard error', () => {
    const { mean, stderr } = meanAndStderr([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    // sample sd = sqrt(5/3); stderr = sd / 2.
    expect(stderr).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(meanAndStderr([0.7])).toEqual({ mean: 0.7, stderr: 0 });
  });
});
