import { describe, expect, it } from 'vitest';
import { minimize } from '../../src/search/algorithm.js';
import { hypervolume } from '../../src/core/hypervolume.js';
import { nonDominatedSort } from '../../src/core/non-dominated-sort.js';
import { realOperators } from '../helpers/real-operators.js';
import { zdt1, zdt2, zdt3, type RealProblem } from '../helpers/zdt.js';
import { Rng } from '../../src/core/rng.js';

/** pymoo's NSGA-II (population 100, 25 000 evaluations) at reference point (1.1, 1.1). */
const PYMOO: [RealProblem, number][] = [
  [zdt1(), 0.8696],
  [zdt2(), 0.5363],
  [zdt3(), 1.3276],
];

describe('NSGA-II on ZDT1-3 (population 100, 25 000 evaluations)', () => {
  for (const [problem, target] of PYMOO) {
    it(`${problem.name} reaches pymoo's hypervolume ${target}`, () => {
      const result = minimize(
        realOperators(problem.box),
        (x) => problem.evaluate(x),
        { populationSize: 100, offspringSize: 100, generations: 250 },
        Rng.fromSeed(1),
      );
      expect(result.evaluations).toBe(25_000);
      const f = result.population.map((m) => [...m.f]);
      const front = nonDominatedSort(f)[0]!.map((i) => f[i]!);
      const hv = hypervolume(front, [1.1, 1.1]);
      expect(hv).toBeGreaterThanOrEqual(0.99 * target);
      // The true Pareto front bounds what any run can reach.
      expect(hv).toBeLessThanOrEqual(target * 1.01);
    });
  }

  it('is deterministic for a seed', () => {
    const p = zdt1();
    const run = () =>
      minimize(
        realOperators(p.box),
        (x) => p.evaluate(x),
        { populationSize: 20, offspringSize: 20, generations: 10 },
        Rng.fromSeed('same'),
      ).population.map((m) => m.x);
    expect(run()).toEqual(run());
  });
});
