/**
 * The study's paired design (issue 25) against values computed by hand: the architecture x seed
 * ANOVA (a randomized complete block design), paired differences per seed with their t interval,
 * the t quantiles behind them, the leave-one-seed-out stability of a verdict, and the smallest
 * detectable differences and the time estimate of src/study/power.ts.
 */
import { describe, expect, it } from 'vitest';
import { harmonicRobustnessScore } from '../../src/core/evaluation.js';
import { meanAndStderr } from '../../src/core/noise-stats.js';
import type { StudyRow } from '../../src/study/aggregate.js';
import { BUDGETS } from '../../src/study/budgets.js';
import type { Family } from '../../src/study/plan.js';
import {
  CALIBRATION_BUDGET,
  CALIBRATION_MINUTES,
  chooseForTarget,
  detectableDifferences,
  estimateMinutes,
  minimumDetectable,
  pilotFromRows,
  README_PILOT,
} from '../../src/study/power.js';
import {
  blockAnova,
  oneWayAnova,
  pairedDifference,
  tCdf,
  tQuantile,
} from '../../src/study/statistics.js';
import {
  familyDiff,
  judgeClaims,
  judgeTopology,
  withoutSeed,
  type VerdictInput,
} from '../../src/study/verdicts.js';

const EPS = 0.03;

/** A row whose seeds 1..n have these PGD@EPS accuracies (clean 0.95). */
function row(architecture: string, family: Family, pgd: readonly number[]): StudyRow {
  const perSeed = pgd.map((p, i) => ({
    seed: i + 1,
    clean: 0.95,
    robust: [p],
    hrs: harmonicRobustnessScore(0.95, p),
  }));
  return {
    dataset: 'mnist',
    architecture,
    family,
    seeds: pgd.length,
    seedsPlanned: pgd.length,
    failures: [],
    params: 1000,
    macs: 1000,
    n: 1000,
    clean: meanAndStderr(pgd.map(() => 0.95)),
    robust: [{ attack: 'pgd', eps: EPS, n: 1000, seeds: pgd.length, ...meanAndStderr([...pgd]) }],
    hrs: meanAndStderr(perSeed.map((s) => s.hrs)),
    perSeed,
  };
}

function input(rows: StudyRow[]): VerdictInput {
  return {
    rows,
    datasets: ['mnist'],
    referenceEps: () => EPS,
    ensembleMembers: { 'ensemble-2': ['random-1', 'random-2'] },
  };
}

describe('Student t', () => {
  it('gives the textbook quantiles and the CDF', () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(tQuantile(0.975, 3)).toBeCloseTo(3.18245, 4);
    expect(tQuantile(0.8, 3)).toBeCloseTo(0.97847, 4);
    expect(tQuantile(0.8, 1)).toBeCloseTo(1.37638, 4);
    expect(tQuantile(0.025, 3)).toBeCloseTo(-3.18245, 4);
    expect(tCdf(0, 7)).toBeCloseTo(0.5, 12);
    // df 1 is Cauchy: P(T <= 1) = 1/2 + atan(1)/pi = 0.75.
    expect(tCdf(1, 1)).toBeCloseTo(0.75, 10);
    expect(() => tQuantile(1, 3)).toThrow(/probability/);
  });
});

describe('two-way ANOVA with seed as a block', () => {
  // Architectures (rows) x seeds (columns):
  //   A: 1 2 3   mean 2
  //   B: 3 5 4   mean 4
  //   C: 2 2 5   mean 3        seed means 2, 3, 4; grand mean 3
  // SS total = (4+1+0) + (0+4+1) + (1+1+4) = 16
  // SS architecture = 3 ((2-3)^2 + (4-3)^2 + (3-3)^2) = 6, df 2
  // SS seed = 3 ((2-3)^2 + (3-3)^2 + (4-3)^2) = 6, df 2
  // SS error = 16 - 6 - 6 = 4, df (3-1)(3-1) = 4, MS error = 1
  // F = (6/2) / 1 = 3; P(F(2,4) > 3) = (1 + 2*3/4)^(-4/2) = 2.5^-2 = 0.16
  const table = [
    [1, 2, 3],
    [3, 5, 4],
    [2, 2, 5],
  ];

  it('matches the hand computation', () => {
    const a = blockAnova(table)!;
    expect(a.ssTreatment).toBeCloseTo(6, 12);
    expect(a.ssBlock).toBeCloseTo(6, 12);
    expect(a.ssError).toBeCloseTo(4, 12);
    expect(a.msError).toBeCloseTo(1, 12);
    expect(a.df1).toBe(2);
    expect(a.df2).toBe(4);
    expect(a.f).toBeCloseTo(3, 12);
    expect(a.p).toBeCloseTo(0.16, 8);
    expect(a.blockF).toBeCloseTo(3, 12);
    expect(a.blockP).toBeCloseTo(0.16, 8);
  });

  it('removes the seed effect that a one-way ANOVA leaves in the error', () => {
    // One-way on the same data: SS within = 16 - 6 = 10, df 6: F = 3 / (10/6) = 1.8.
    const one = oneWayAnova(table)!;
    expect(one.f).toBeCloseTo(1.8, 12);
    expect(blockAnova(table)!.f).toBeGreaterThan(one.f);
  });

  it('needs 2 architectures and 2 seeds, every cell present', () => {
    expect(blockAnova([[1, 2, 3]])).toBeUndefined();
    expect(blockAnova([[1], [2]])).toBeUndefined();
    expect(() => blockAnova([[1, 2], [3]])).toThrow(/every treatment in every block/);
  });

  it('is what the topology verdict reports, on the seeds all architectures share', () => {
    const v = judgeTopology(
      input([
        row('A', 'nas', [0.01, 0.02, 0.03]),
        row('B', 'nas', [0.03, 0.05, 0.04]),
        row('C', 'handcrafted', [0.02, 0.02, 0.05]),
      ]),
    );
    // The table above / 100: the same F and p. Top B minus bottom A per seed: 2, 3, 1 points:
    // mean 2, sd 1, stderr 1/sqrt(3) = 0.58 points.
    expect(v.statistic).toMatch(/architecture x seed ANOVA F\(2,4\) = 3\.00, p = 0\.16/);
    expect(v.statistic).toMatch(/seed as a block: F\(2,4\) = 3\.00, p = 0\.16/);
    expect(v.statistic).toMatch(/B - A = 2\.0 ± 0\.6 points paired \(3 architectures, 3 seeds\)/);
    expect(v.verdict).toBe('inconclusive');
  });
});

describe('paired differences per seed', () => {
  it('gives mean, stderr and the t interval with n - 1 df', () => {
    // a - b = 0.10, 0.15, 0.05, 0.15: mean 0.1125; squared deviations 0.00015625, 0.00140625,
    // 0.00390625, 0.00140625 (sum 0.006875); variance 0.006875/3 = 0.00229167; sd 0.047871;
    // stderr 0.047871/2 = 0.0239357; t(0.975, 3) = 3.182446: half-width 0.076174.
    const d = pairedDifference([0.5, 0.6, 0.55, 0.65], [0.4, 0.45, 0.5, 0.5])!;
    expect(d.n).toBe(4);
    expect(d.df).toBe(3);
    expect(d.mean).toBeCloseTo(0.1125, 12);
    expect(d.stderr).toBeCloseTo(0.0239357, 6);
    expect(d.lower).toBeCloseTo(0.1125 - 0.076174, 4);
    expect(d.upper).toBeCloseTo(0.1125 + 0.076174, 4);
    expect(pairedDifference([0.5], [0.4])).toBeUndefined();
  });

  it('pairs NAS minus hand-crafted by seed', () => {
    // Per seed, NAS mean (a, b) minus hand-crafted mean (c, d):
    //   seed 1: (0.6+0.5)/2 - (0.4+0.3)/2 = 0.55 - 0.35 = 0.2
    //   seed 2: (0.7+0.6)/2 - (0.5+0.35)/2 = 0.65 - 0.425 = 0.225
    //   seed 3: (0.65+0.55)/2 - (0.45+0.3)/2 = 0.6 - 0.375 = 0.225
    // mean 0.216667; deviations -0.016667, 0.008333, 0.008333: variance 0.000416667/2; stderr
    // sqrt(0.000208333/3) = 0.0083333.
    const d = familyDiff(
      input([
        row('a', 'nas', [0.6, 0.7, 0.65]),
        row('b', 'nas', [0.5, 0.6, 0.55]),
        row('c', 'handcrafted', [0.4, 0.5, 0.45]),
        row('d', 'handcrafted', [0.3, 0.35, 0.3]),
      ]),
      'mnist',
    )!;
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(0.216667, 5);
    expect(d.stderr).toBeCloseTo(0.0083333, 6);
    expect(d.nNas).toBe(2);
    expect(d.nHand).toBe(2);
  });
});

describe('leave-one-seed-out verdicts', () => {
  const ensembleRows = (ens: number[]) => [
    row('random-1', 'random', [0.2, 0.2, 0.2, 0.2]),
    row('random-2', 'random', [0.3, 0.3, 0.3, 0.3]),
    row('ensemble-2', 'ensemble', ens),
  ];

  it('decides a claim only when it holds with each seed left out', () => {
    // Gains (members' mean 0.25): 0.10, 0.11, 0.10, 0.02. All 4 seeds: mean 0.0825, stderr
    // 0.020966, lower 0.0825 - 3.182 * 0.020966 = 0.0158 > 0: supported. Without seed 1:
    // 0.11, 0.10, 0.02: mean 0.0767, stderr 0.02848, lower 0.0767 - 4.303 * 0.02848 < 0.
    const claims = judgeClaims(input(ensembleRows([0.35, 0.36, 0.35, 0.27])));
    const gain = claims.find((c) => c.id === 'ensemble-gain')!;
    expect(gain.allSeeds).toBe('supported');
    expect(gain.verdict).toBe('inconclusive');
    expect(gain.leaveOneSeedOut).toEqual([
      { seed: 1, verdict: 'inconclusive' },
      { seed: 2, verdict: 'inconclusive' },
      { seed: 3, verdict: 'inconclusive' },
      { seed: 4, verdict: 'supported' },
    ]);
    expect(gain.statistic).toMatch(/supported on all seeds, but inconclusive without seed 1/);
  });

  it('keeps a verdict that every seed left out agrees with', () => {
    const claims = judgeClaims(input(ensembleRows([0.35, 0.36, 0.35, 0.37])));
    const gain = claims.find((c) => c.id === 'ensemble-gain')!;
    expect(gain.verdict).toBe('supported');
    expect(gain.leaveOneSeedOut.map((l) => l.verdict)).toEqual(Array(4).fill('supported'));
    expect(gain.statistic).toMatch(/holds with each of the 4 seeds left out/);
  });

  it('leaves a seed out of every mean', () => {
    const [r] = withoutSeed([row('a', 'nas', [0.1, 0.2, 0.6])], 3);
    expect(r!.seeds).toBe(2);
    expect(r!.perSeed.map((s) => s.seed)).toEqual([1, 2]);
    expect(r!.robust[0]!.mean).toBeCloseTo(0.15, 12);
  });
});

describe('power before the run', () => {
  it('gives the paired t detectable difference', () => {
    // (t(0.975, 3) + t(0.80, 3)) * sd / sqrt(4) = (3.182446 + 0.978472) * 0.02 / 2 = 0.041609.
    expect(minimumDetectable(0.02, 4)).toBeCloseTo(0.041609, 5);
    expect(minimumDetectable(0.02, 1)).toBe(Infinity);
  });

  it('adds the counting error of the test images to the pilot noise', () => {
    // README pilot: residual^2 = 0.164^2 - 0.068^2 - 0.72*0.28/500 = 0.0218688; at 1 000 images
    // the noise is 0.0218688 + 0.2016/1000 = 0.0220704. Two architectures: sd sqrt(2 * 0.0220704)
    // = 0.210097; 4 seeds: 4.160918 * 0.210097 / 2 = 0.43710.
    const d = detectableDifferences(BUDGETS.quick, ['mnist'], 4, README_PILOT);
    const topology = d.find((x) => x.claim === 'topology')!;
    expect(topology.testImages).toBe(1000);
    expect(topology.sd).toBeCloseTo(0.210097, 5);
    expect(topology.difference).toBeCloseTo(0.4371, 4);
    // The ensemble of 3 against its members' mean: kappa 1 + 1/3.
    const gain = d.find((x) => x.claim === 'ensemble-gain')!;
    expect(gain.sd).toBeCloseTo(Math.sqrt((4 / 3) * 0.0220704), 6);
    // NAS (3) minus hand-crafted (2): kappa 1/3 + 1/2.
    const fam = d.find((x) => x.claim === 'nas-vs-handcrafted')!;
    expect(fam.sd).toBeCloseTo(Math.sqrt((1 / 3 + 1 / 2) * 0.0220704), 6);
    // More seeds detect less.
    const eight = detectableDifferences(BUDGETS.quick, ['mnist'], 8, README_PILOT);
    expect(eight[0]!.difference).toBeLessThan(topology.difference);
  });

  it("takes a study's own noise from its block ANOVA, counting error removed", () => {
    // The table of the ANOVA test / 100: MS error 1e-4, grand mean 0.03; 1 000 images count
    // 0.03 * 0.97 / 1000 = 2.91e-5: residual sqrt(1e-4 - 2.91e-5) = 0.0084202.
    const pilot = pilotFromRows(
      input([
        row('A', 'nas', [0.01, 0.02, 0.03]),
        row('B', 'nas', [0.03, 0.05, 0.04]),
        row('C', 'handcrafted', [0.02, 0.02, 0.05]),
      ]),
    )!;
    expect(pilot.figures.mnist!.pgdAccuracy).toBeCloseTo(0.03, 12);
    expect(pilot.figures.mnist!.residualSd).toBeCloseTo(0.0084202, 6);
    expect(pilot.source).toMatch(/this study's own results \(3 seeds/);
    expect(pilotFromRows(input([row('A', 'nas', [0.1])]))).toBeUndefined();
  });

  it('chooses the cheapest seeds and test images that reach a target, or says it cannot', () => {
    const pilot = {
      source: 'a test pilot',
      figures: { default: { pgdAccuracy: 0.5, residualSd: 0.01 } },
    };
    const choice = chooseForTarget(BUDGETS.quick, ['mnist'], 0.05, pilot, 2, { mnist: 2000 });
    expect(Math.max(...choice.detectable.map((d) => d.difference))).toBeLessThanOrEqual(0.05);
    expect(choice.budget.perDataset.mnist.testSize).toBeLessThanOrEqual(2000);
    // One seed fewer (at the chosen images) does not reach it.
    const fewer = detectableDifferences(choice.budget, ['mnist'], choice.seeds - 1, pilot);
    expect(Math.max(...fewer.map((d) => d.difference))).toBeGreaterThan(0.05);
    expect(choice.minutes).toBeCloseTo(
      estimateMinutes(choice.budget, ['mnist'], choice.seeds, 2),
      10,
    );
    expect(() => chooseForTarget(BUDGETS.quick, ['mnist'], 0.001, pilot, 2)).toThrow(
      /out of reach within 50 seeds/,
    );
  });

  it('estimates time from the calibration study, proportional to seeds and over workers', () => {
    const datasets = ['mnist', 'fashion-mnist'] as const;
    expect(estimateMinutes(CALIBRATION_BUDGET, datasets, 2, 2)).toBeCloseTo(
      CALIBRATION_MINUTES,
      10,
    );
    const one = estimateMinutes(BUDGETS.standard, ['mnist'], 1, 1);
    expect(estimateMinutes(BUDGETS.standard, ['mnist'], 2, 1)).toBeCloseTo(2 * one, 8);
    expect(estimateMinutes(BUDGETS.standard, ['mnist'], 1, 4)).toBeCloseTo(one / 4, 8);
  });
});
