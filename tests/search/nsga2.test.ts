import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvolutionarySearch } from '../../src/search/algorithm.js';
import { tournamentMating } from '../../src/search/mating.js';
import { crowdingDistance } from '../../src/search/nsga2/crowding-distance.js';
import { hypervolume } from '../../src/core/hypervolume.js';
import { nonDominatedSort } from '../../src/core/non-dominated-sort.js';
import { rankAndCrowdingSurvival } from '../../src/search/nsga2/survival.js';
import { binaryTournament } from '../../src/search/nsga2/tournament.js';
import { Rng } from '../../src/core/rng.js';

const acc = [0.9, 0.85, 0.8, 0.88, 0.7];
const rob = [0.3, 0.45, 0.5, 0.28, 0.2];
const errors = acc.map((a, i) => [1 - a, 1 - rob[i]!]);

/** Deb's O(MN^2) definition, as the oracle. */
function naiveFronts(points: number[][]): number[][] {
  const dom = (a: number[], b: number[]) =>
    a.every((v, k) => v <= b[k]!) && a.some((v, k) => v < b[k]!);
  let left = points.map((_, i) => i);
  const fronts: number[][] = [];
  while (left.length > 0) {
    const front = left.filter((i) => !left.some((j) => dom(points[j]!, points[i]!)));
    fronts.push(front);
    left = left.filter((i) => !front.includes(i));
  }
  return fronts;
}

describe('hand-checked vectors', () => {
  it('sorts errors (1-acc, 1-rob) into fronts [[0,1,2],[3],[4]]', () => {
    expect(nonDominatedSort(errors)).toEqual([[0, 1, 2], [3], [4]]);
    // Same answer maximising the accuracies themselves.
    const raw = acc.map((a, i) => [a, rob[i]!]);
    expect(nonDominatedSort(raw, ['max', 'max'])).toEqual([[0, 1, 2], [3], [4]]);
  });

  it('gives the first front crowding [inf, 1, inf]', () => {
    expect(crowdingDistance([errors[0]!, errors[1]!, errors[2]!])).toEqual([Infinity, 1, Infinity]);
  });

  it('gives hypervolume 0.4375 at reference (1, 1)', () => {
    expect(hypervolume(errors, [1, 1])).toBeCloseTo(0.4375, 12);
    const raw = acc.map((a, i) => [a, rob[i]!]);
    expect(hypervolume(raw, [0, 0], ['max', 'max'])).toBeCloseTo(0.4375, 12);
  });

  it('computes a hand-checked 3-D hypervolume', () => {
    // Two boxes [0,1]^3 minus corner: union of [0.5,1]x[0,1]x[0,1] and [0,1]x[0.5,1]x[0,1] = 0.75.
    expect(
      hypervolume(
        [
          [0.5, 0, 0],
          [0, 0.5, 0],
        ],
        [1, 1, 1],
      ),
    ).toBeCloseTo(0.75, 12);
    expect(hypervolume([[0.5, 0.5, 0.5]], [1, 1, 1])).toBeCloseTo(0.125, 12);
    // A point outside the reference box adds nothing.
    expect(hypervolume([[2, 0, 0]], [1, 1, 1])).toBe(0);
  });
});

describe('non-dominated sorting', () => {
  it('agrees with the definition on random point sets (with ties and duplicates)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }), {
          maxLength: 40,
        }),
        (pts) => {
          expect(nonDominatedSort(pts)).toEqual(naiveFronts(pts));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('puts duplicate points in the same front', () => {
    expect(
      nonDominatedSort([
        [1, 1],
        [1, 1],
        [0, 2],
      ]),
    ).toEqual([[0, 1, 2]]);
  });

  it('rejects ragged input with a clear error', () => {
    expect(() => nonDominatedSort([[1, 2], [1]])).toThrow(/point 1 has 1 objectives/);
  });
});

describe('crowding distance', () => {
  it('gives exact duplicates 0 after the first copy, deterministically', () => {
    const cd = crowdingDistance([
      [0, 1],
      [0.5, 0.5],
      [0.5, 0.5],
      [1, 0],
    ]);
    expect(cd).toEqual([Infinity, 1, 0, Infinity]);
  });

  it('is infinite for fronts of one or two points', () => {
    expect(crowdingDistance([[1, 2]])).toEqual([Infinity]);
    expect(
      crowdingDistance([
        [1, 2],
        [2, 1],
      ]),
    ).toEqual([Infinity, Infinity]);
  });
});

describe('hypervolume', () => {
  it('3-D sweep agrees with Monte-Carlo-free grid counting on integer points', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 3, maxLength: 3 }), {
          minLength: 1,
          maxLength: 12,
        }),
        (pts) => {
          // Count unit cells [x,x+1]^3 inside [0,6]^3 dominated by some point.
          let cells = 0;
          for (let x = 0; x < 6; x++)
            for (let y = 0; y < 6; y++)
              for (let z = 0; z < 6; z++)
                if (pts.some((p) => p[0]! <= x && p[1]! <= y && p[2]! <= z)) cells++;
          expect(hypervolume(pts, [6, 6, 6])).toBeCloseTo(cells, 9);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('survival and selection', () => {
  it('fills by whole fronts and cuts the last one by crowding', () => {
    // Front 0: three points; front 1: four points of which the two ends are kept.
    const pts = [
      [0, 2],
      [1, 1],
      [2, 0],
      [1, 3],
      [2, 2.5],
      [2.2, 2.4],
      [3, 1],
    ];
    const s = rankAndCrowdingSurvival(pts, 5);
    expect(s.rank).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(s.survivors).toEqual([0, 1, 2, 3, 6]);
  });

  it('binary tournament prefers lower rank, then larger crowding', () => {
    const members = [
      { rank: 0, crowding: 1 },
      { rank: 1, crowding: Infinity },
    ];
    const winners = binaryTournament(members, 50, Rng.fromSeed(3));
    expect(new Set(winners)).toEqual(new Set([0]));
    const sameRank = [
      { rank: 0, crowding: 0.1 },
      { rank: 0, crowding: 0.5 },
    ];
    expect(new Set(binaryTournament(sameRank, 50, Rng.fromSeed(3)))).toEqual(new Set([1]));
  });

  it('redraws offspring that duplicate the population, a bounded number of times', () => {
    // A 3-value space: the population holds two values, so offspring must be the third one.
    const engine = new EvolutionarySearch<number>(
      {
        sampling: { sample: (rng) => rng.int(3) },
        mating: tournamentMating<number>({ mutate: (_x, rng) => rng.int(3) }),
        key: String,
      },
      { populationSize: 2, offspringSize: 1, maxRedraws: 1000 },
    );
    const pop = [
      { x: 0, f: [0, 1], rank: 0, crowding: Infinity },
      { x: 1, f: [1, 0], rank: 0, crowding: Infinity },
    ];
    for (let s = 0; s < 20; s++) expect(engine.ask(pop, Rng.fromSeed(s))).toEqual([2]);
    // When no new value exists, the bound stops the redraws and duplicates are accepted.
    const bounded = new EvolutionarySearch<number>(
      {
        sampling: { sample: () => 0 },
        mating: tournamentMating<number>({ mutate: () => 0 }),
        key: String,
      },
      { populationSize: 2, offspringSize: 2, maxRedraws: 5 },
    );
    expect(bounded.ask(pop, Rng.fromSeed(1))).toEqual([0, 0]);
  });
});
