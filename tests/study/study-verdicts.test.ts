/**
 * The study's verdicts on fixed inputs: every claim can come out supported, not supported and
 * inconclusive, decided by the statistic it prints. Rows are built by hand (per-seed PGD accuracy
 * at the reference eps), as the aggregation would give them.
 */
import { describe, expect, it } from 'vitest';
import type { StudyRow } from '../../src/study/aggregate.js';
import type { Family } from '../../src/study/plan.js';
import { fSurvival, oneWayAnova, spearman, tQuantile975 } from '../../src/study/statistics.js';
import {
  judgeEnsembleGain,
  judgeHrsRanking,
  judgeNasVsHandcrafted,
  judgeTopology,
  type VerdictInput,
} from '../../src/study/verdicts.js';
import { harmonicRobustnessScore } from '../../src/core/evaluation.js';
import { meanAndStderr } from '../../src/core/noise-stats.js';

const EPS = 0.03;

/** A row whose seeds have these clean and PGD@EPS accuracies. */
function row(
  dataset: string,
  architecture: string,
  family: Family,
  pgd: readonly number[],
  clean: readonly number[] = pgd.map(() => 0.95),
): StudyRow {
  const perSeed = pgd.map((p, i) => ({
    seed: i + 1,
    clean: clean[i] as number,
    robust: [p],
    hrs: harmonicRobustnessScore(clean[i] as number, p),
  }));
  return {
    dataset,
    architecture,
    family,
    seeds: pgd.length,
    seedsPlanned: pgd.length,
    failures: [],
    params: 1000,
    macs: 1000,
    n: 200,
    clean: meanAndStderr([...clean]),
    robust: [{ attack: 'pgd', eps: EPS, n: 200, ...meanAndStderr([...pgd]) }],
    hrs: meanAndStderr(perSeed.map((s) => s.hrs)),
    perSeed,
  };
}

function input(rows: StudyRow[], datasets: string[]): VerdictInput {
  return {
    rows,
    datasets,
    referenceEps: () => EPS,
    ensembleMembers: { 'ensemble-2': ['random-1', 'random-2'] },
  };
}

describe('statistics', () => {
  it('gives the textbook t quantiles and F tail probabilities', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(10)).toBeCloseTo(2.228, 3);
    expect(tQuantile975(1000)).toBe(1.96);
    // F(2, 10) upper 5% point is 4.103; F(1, 1) at 1 has tail 0.5.
    expect(fSurvival(4.103, 2, 10)).toBeCloseTo(0.05, 3);
    expect(fSurvival(1, 1, 1)).toBeCloseTo(0.5, 6);
    expect(fSurvival(3.33, 5, 20)).toBeCloseTo(0.024, 2);
  });

  it('runs a one-way ANOVA as by hand', () => {
    // Groups {1,2,3} and {4,5,6}: SSB = 13.5 (df 1), SSW = 4 (df 4): F = 13.5.
    const a = oneWayAnova([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(a?.f).toBeCloseTo(13.5, 10);
    expect(a?.df1).toBe(1);
    expect(a?.df2).toBe(4);
    expect(a?.p).toBeCloseTo(0.0213, 3);
    expect(oneWayAnova([[1], [2]])).toBeUndefined();
  });

  it('ranks with ties for Spearman', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(0.866, 3);
  });
});

describe('claim 1: topology matters', () => {
  it('is supported when architectures differ well beyond seed noise', () => {
    const v = judgeTopology(
      input(
        [
          row('mnist', 'a', 'nas', [0.5, 0.51, 0.49]),
          row('mnist', 'b', 'nas', [0.3, 0.31, 0.29]),
          row('mnist', 'c', 'handcrafted', [0.1, 0.11, 0.09]),
        ],
        ['mnist'],
      ),
    );
    expect(v.verdict).toBe('supported');
    expect(v.statistic).toMatch(/F\(2,6\) = .*p = /);
    expect(v.statistic).toMatch(/a - c = 40\.0 ± /);
  });

  it('is not supported when every architecture is within a point, tightly', () => {
    const v = judgeTopology(
      input(
        [
          row('mnist', 'a', 'nas', [0.5, 0.5001, 0.4999, 0.5]),
          row('mnist', 'b', 'handcrafted', [0.5002, 0.5, 0.5001, 0.4999]),
        ],
        ['mnist'],
      ),
    );
    expect(v.verdict).toBe('not supported');
  });

  it('is inconclusive with one seed, or when the noise hides the gaps', () => {
    expect(
      judgeTopology(
        input([row('mnist', 'a', 'nas', [0.5]), row('mnist', 'b', 'nas', [0.1])], ['mnist']),
      ).verdict,
    ).toBe('inconclusive');
    expect(
      judgeTopology(
        input(
          [row('mnist', 'a', 'nas', [0.2, 0.6]), row('mnist', 'b', 'nas', [0.3, 0.5])],
          ['mnist'],
        ),
      ).verdict,
    ).toBe('inconclusive');
  });
});

describe('claim 2: NAS cells vs hand-crafted networks', () => {
  const families = (d: string, nas: number[], hand: number[]) => [
    ...nas.map((m, i) => row(d, `nas-${i}`, 'nas', [m, m + 0.001])),
    ...hand.map((m, i) => row(d, `hand-${i}`, 'handcrafted', [m, m + 0.001])),
  ];

  it('is supported when NAS leads on the simplest data set and trails on the most complex', () => {
    const v = judgeNasVsHandcrafted(
      input(
        [
          ...families('mnist', [0.6, 0.62, 0.61], [0.3, 0.31, 0.32]),
          ...families('fashion-mnist', [0.2, 0.21, 0.22], [0.4, 0.41, 0.42]),
        ],
        ['mnist', 'fashion-mnist'],
      ),
    );
    expect(v.verdict).toBe('supported');
    expect(v.statistic).toMatch(/mnist: NAS - hand-crafted = \+30\.0 ± .*95% CI/);
  });

  it('is not supported when hand-crafted networks lead even on the simplest data set', () => {
    const v = judgeNasVsHandcrafted(
      input(families('mnist', [0.2, 0.21, 0.22], [0.5, 0.51, 0.52]), ['mnist']),
    );
    expect(v.verdict).toBe('not supported');
  });

  it('is inconclusive with one data set that agrees, or with too few architectures', () => {
    expect(
      judgeNasVsHandcrafted(
        input(families('mnist', [0.6, 0.62, 0.61], [0.3, 0.31, 0.32]), ['mnist']),
      ).verdict,
    ).toBe('inconclusive');
    expect(
      judgeNasVsHandcrafted(input(families('mnist', [0.6], [0.3]), ['mnist'])).statistic,
    ).toMatch(/needs at least 2 NAS cells/);
  });
});

describe('claim 3: ensembles of random genotypes', () => {
  const rows = (ens: number[]) => [
    row('mnist', 'random-1', 'random', [0.2, 0.22, 0.21]),
    row('mnist', 'random-2', 'random', [0.3, 0.28, 0.29]),
    row('mnist', 'ensemble-2', 'ensemble', ens),
  ];

  it('is supported when the ensemble beats its members on every seed', () => {
    const v = judgeEnsembleGain(input(rows([0.37, 0.36, 0.36]), ['mnist']));
    expect(v.verdict).toBe('supported');
    // Gains: 0.37-0.25, 0.36-0.25, 0.36-0.25 = 11.3 points on average.
    expect(v.statistic).toMatch(/ensemble-2 - mean of its members = \+11\.3 ± /);
  });

  it('is not supported when the ensemble is clearly worse', () => {
    expect(judgeEnsembleGain(input(rows([0.1, 0.11, 0.1]), ['mnist'])).verdict).toBe(
      'not supported',
    );
  });

  it('is inconclusive when the interval straddles 0 or with one seed', () => {
    expect(judgeEnsembleGain(input(rows([0.2, 0.3, 0.26]), ['mnist'])).verdict).toBe(
      'inconclusive',
    );
    const one = [
      row('mnist', 'random-1', 'random', [0.2]),
      row('mnist', 'random-2', 'random', [0.3]),
      row('mnist', 'ensemble-2', 'ensemble', [0.5]),
    ];
    expect(judgeEnsembleGain(input(one, ['mnist'])).statistic).toMatch(/needs 2/);
  });
});

describe('claim 4: HRS ranks architectures', () => {
  it('is supported when HRS differences are reliable and not the clean ranking', () => {
    const v = judgeHrsRanking(
      input(
        [
          row('mnist', 'a', 'nas', [0.5, 0.51], [0.9, 0.9]),
          row('mnist', 'b', 'nas', [0.3, 0.31], [0.95, 0.95]),
          row('mnist', 'c', 'handcrafted', [0.1, 0.11], [0.99, 0.99]),
        ],
        ['mnist'],
      ),
    );
    expect(v.verdict).toBe('supported');
    expect(v.statistic).toMatch(
      /ICC\(1\) of HRS 1\.00, reliability of a 2-seed mean 1\.00; Spearman of HRS with clean -1\.00/,
    );
  });

  it('is not supported when HRS differences are seed noise', () => {
    const v = judgeHrsRanking(
      input(
        [
          row('mnist', 'a', 'nas', [0.1, 0.5], [0.9, 0.95]),
          row('mnist', 'b', 'nas', [0.5, 0.1], [0.95, 0.9]),
          row('mnist', 'c', 'handcrafted', [0.3, 0.31], [0.93, 0.92]),
        ],
        ['mnist'],
      ),
    );
    expect(v.verdict).toBe('not supported');
  });

  it('is inconclusive when reliability is short of 0.8', () => {
    const v = judgeHrsRanking(
      input(
        [
          row('mnist', 'a', 'nas', [0.4, 0.5], [0.9, 0.9]),
          row('mnist', 'b', 'nas', [0.3, 0.4], [0.95, 0.95]),
          row('mnist', 'c', 'handcrafted', [0.2, 0.3], [0.99, 0.99]),
        ],
        ['mnist'],
      ),
    );
    expect(v.statistic).toMatch(/reliability of a 2-seed mean 0\.[0-7]/);
    expect(v.verdict).toBe('inconclusive');
  });
});
