import { describe, expect, it } from 'vitest';
import {
  frontProbabilities,
  normalCdf,
  racingChoice,
  type RacingCandidate,
} from '../../src/search/allocation.js';

describe('racing re-evaluation', () => {
  it('normalCdf against table values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.1586553, 6);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
  });

  it('front probabilities: two candidates, one objective, hand-computed', () => {
    // Minimisation. A at 0 and B at 1, each stderr 1/sqrt(2): the difference has sd 1, so
    // P(B better than A) = Phi(-1) = 0.1587 and P(A better than B) = Phi(1) = 0.8413.
    const s = Math.SQRT1_2;
    const p = frontProbabilities([
      { mean: [0], stderr: [s], evaluatedSeeds: 1 },
      { mean: [1], stderr: [s], evaluatedSeeds: 1 },
    ]);
    expect(p[0]).toBeCloseTo(1 - 0.1586553, 6);
    expect(p[1]).toBeCloseTo(1 - 0.8413447, 6);
  });

  it('spends the budget on the most uncertain, skips the settled and those at maxSeeds', () => {
    const c = (m0: number, m1: number, s: number, seeds = 1): RacingCandidate => ({
      mean: [m0, m1],
      stderr: [s, s],
      evaluatedSeeds: seeds,
    });
    const candidates = [
      c(0, 0, 0.01), // on the front, but 2 could dominate it: uncertain
      c(5, 5, 0.01), // clearly dominated: settled
      c(0.05, 0.05, 0.1), // close to the first: uncertain
      c(0.04, 0.06, 0.1, 12), // uncertain but at maxSeeds
      c(0.1, 0.1, 0.1), // less close: uncertain
    ];
    const p = frontProbabilities(candidates);
    expect(p[1]).toBeLessThan(0.05);
    const u = p.map((x) => x * (1 - x));
    const chosen = racingChoice(candidates, { budget: 5, maxSeeds: 12 });
    expect([...chosen].sort()).toEqual([0, 2, 4]);
    // Most uncertain first.
    for (let i = 1; i < chosen.length; i++) {
      expect(u[chosen[i - 1]!]!).toBeGreaterThanOrEqual(u[chosen[i]!]!);
    }
    expect(racingChoice(candidates, { budget: 1, maxSeeds: 12 })).toEqual([chosen[0]]);
    expect(racingChoice(candidates, { budget: 0, maxSeeds: 12 })).toEqual([]);
    // Nothing counts as settled: every candidate below maxSeeds is ranked.
    expect(racingChoice(candidates, { budget: 9, maxSeeds: 12, settled: 0 })).toHaveLength(4);
  });
});
