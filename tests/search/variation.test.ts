import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { genotypeHash } from '../../src/core/canonical.js';
import { crossoverGenotypes } from '../../src/search/crossover.js';
import { OPERATIONS, type Edge, type Genotype } from '../../src/core/genotype.js';
import { genotypeProblems } from '../../src/core/genotype-validate.js';
import { mutateGenotype } from '../../src/search/mutation.js';
import { PUBLISHED_GENOTYPES, getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { Rng } from '../../src/core/rng.js';
import { SAMPLING_OPS, sampleGenotype } from '../../src/core/sampling.js';

const seedArb = fc.integer();
const nodesArb = fc.integer({ min: 1, max: 7 });

function nodesOf(edges: readonly Edge[]): Edge[][] {
  const out: Edge[][] = [];
  for (let k = 0; k < edges.length; k += 2) out.push([edges[k] as Edge, edges[k + 1] as Edge]);
  return out;
}

/** Every node of both cells has two distinct inputs and no 'none' op. */
function inDartsSpace(g: Genotype): boolean {
  return [g.normal, g.reduce].every((edges) =>
    nodesOf(edges).every(([a, b]) => a[1] !== b[1] && a[0] !== 'none' && b[0] !== 'none'),
  );
}

const published = Object.values(PUBLISHED_GENOTYPES).map((p) => p.genotype);

/** A sampled genotype, or (sometimes) a published one. */
const parentArb = fc.oneof(
  fc.tuple(seedArb, nodesArb).map(([s, n]) => sampleGenotype(Rng.fromSeed(s), { nodes: n })),
  fc.constantFrom(...published),
);

describe('sampleGenotype', () => {
  it('samples valid DARTS-space genotypes: distinct inputs, no none, concat = all nodes', () => {
    fc.assert(
      fc.property(seedArb, nodesArb, (seed, nodes) => {
        const g = sampleGenotype(Rng.fromSeed(seed), { nodes });
        expect(genotypeProblems(g)).toEqual([]);
        expect(g.normal).toHaveLength(2 * nodes);
        expect(g.reduce).toHaveLength(2 * nodes);
        expect(inDartsSpace(g)).toBe(true);
        const all = Array.from({ length: nodes }, (_, k) => k + 2);
        expect(g.normal_concat).toEqual(all);
        expect(g.reduce_concat).toEqual(all);
      }),
      { numRuns: 300 },
    );
  });

  it('defaults to 4 nodes and uses only the given ops', () => {
    expect(sampleGenotype(Rng.fromSeed(1)).normal).toHaveLength(8);
    const g = sampleGenotype(Rng.fromSeed(2), { ops: ['skip_connect'] });
    expect([...g.normal, ...g.reduce].every(([op]) => op === 'skip_connect')).toBe(true);
    expect(() => sampleGenotype(Rng.fromSeed(1), { nodes: 0 })).toThrow(InputError);
    expect(() => sampleGenotype(Rng.fromSeed(1), { ops: [] })).toThrow(InputError);
  });

  it('gives the same sequence for the same seed', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = Rng.fromSeed(seed);
        const b = Rng.fromSeed(seed);
        for (let i = 0; i < 5; i++) expect(sampleGenotype(a)).toEqual(sampleGenotype(b));
      }),
      { numRuns: 100 },
    );
  });

  it('continues the same sequence from a restored RNG state (through JSON)', () => {
    fc.assert(
      fc.property(seedArb, fc.nat(10), (seed, skip) => {
        const a = Rng.fromSeed(seed);
        for (let i = 0; i < skip; i++) sampleGenotype(a);
        const saved = JSON.parse(JSON.stringify(a.state()));
        const expected = Array.from({ length: 3 }, () => sampleGenotype(a));
        const b = Rng.fromState(saved);
        expect(Array.from({ length: 3 }, () => sampleGenotype(b))).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('covers the space: every op and every legal input shows up', () => {
    const rng = Rng.fromSeed(7);
    const ops = new Set<string>();
    const inputsOfLastNode = new Set<number>();
    const hashes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const g = sampleGenotype(rng);
      hashes.add(genotypeHash(g));
      for (const [op] of g.normal) ops.add(op);
      inputsOfLastNode.add((g.normal[6] as Edge)[1]).add((g.normal[7] as Edge)[1]);
    }
    expect([...ops].sort()).toEqual([...SAMPLING_OPS].sort());
    expect([...inputsOfLastNode].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(hashes.size).toBe(200);
  });
});

describe('mutateGenotype', () => {
  it('always gives a valid genotype that differs from its parent', () => {
    fc.assert(
      fc.property(parentArb, seedArb, fc.double({ min: 0, max: 1, noNaN: true }), (g, seed, p) => {
        const child = mutateGenotype(g, Rng.fromSeed(seed), { probability: p });
        expect(genotypeProblems(child)).toEqual([]);
        expect(genotypeHash(child)).not.toBe(genotypeHash(g));
        expect(child.normal).toHaveLength(g.normal.length);
        expect(child.reduce).toHaveLength(g.reduce.length);
        expect(child.normal_concat).toEqual(g.normal_concat);
        expect(child.reduce_concat).toEqual(g.reduce_concat);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps two distinct inputs per node and stays in the DARTS space', () => {
    fc.assert(
      fc.property(seedArb, nodesArb, seedArb, (s, nodes, m) => {
        const g = sampleGenotype(Rng.fromSeed(s), { nodes });
        let child = g;
        const rng = Rng.fromSeed(m);
        for (let i = 0; i < 5; i++) child = mutateGenotype(child, rng, { probability: 0.5 });
        expect(inDartsSpace(child)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('with the default probability changes few edges, and is deterministic per seed', () => {
    const g = getPublishedGenotype('DARTS_V2');
    let changed = 0;
    for (let seed = 0; seed < 100; seed++) {
      const child = mutateGenotype(g, Rng.fromSeed(seed));
      expect(mutateGenotype(g, Rng.fromSeed(seed))).toEqual(child);
      const edges = [...child.normal, ...child.reduce];
      const parent = [...g.normal, ...g.reduce];
      changed += edges.filter((e, k) => e[0] !== parent[k]![0] || e[1] !== parent[k]![1]).length;
    }
    expect(changed / 100).toBeGreaterThanOrEqual(1);
    expect(changed / 100).toBeLessThan(2.5);
  });

  it('rewires when only one op is allowed, and returns an equal copy when nothing can change', () => {
    const g = sampleGenotype(Rng.fromSeed(3), { ops: ['skip_connect'] });
    const child = mutateGenotype(g, Rng.fromSeed(4), { ops: ['skip_connect'] });
    expect(genotypeHash(child)).not.toBe(genotypeHash(g));
    const tiny: Genotype = {
      normal: [
        ['skip_connect', 0],
        ['skip_connect', 1],
      ],
      normal_concat: [2],
      reduce: [
        ['skip_connect', 1],
        ['skip_connect', 0],
      ],
      reduce_concat: [2],
    };
    expect(mutateGenotype(tiny, Rng.fromSeed(1), { ops: ['skip_connect'] })).toEqual(tiny);
  });

  it('rejects bad options and invalid parents', () => {
    const g = getPublishedGenotype('DARTS_V2');
    expect(() => mutateGenotype(g, Rng.fromSeed(1), { probability: 2 })).toThrow(InputError);
    expect(() => mutateGenotype(g, Rng.fromSeed(1), { ops: [] })).toThrow(InputError);
    expect(() => mutateGenotype({ ...g, normal_concat: [9] }, Rng.fromSeed(1))).toThrow(
      /normal_concat: names state 9/,
    );
  });
});

describe('crossoverGenotypes', () => {
  const pairArb = fc
    .tuple(seedArb, seedArb, nodesArb)
    .map(([a, b, n]) => [
      sampleGenotype(Rng.fromSeed(a), { nodes: n, ops: OPERATIONS }),
      sampleGenotype(Rng.fromSeed(b), { nodes: n, ops: OPERATIONS }),
    ]);
  const fiveNodePairArb = fc
    .tuple(
      fc.constantFrom('NASNet', 'AmoebaNet', 'ENAS'),
      fc.constantFrom('NASNet', 'AmoebaNet', 'ENAS'),
    )
    .map(([a, b]) => [getPublishedGenotype(a), getPublishedGenotype(b)]);

  it('always gives two valid children whose nodes come from the parents', () => {
    fc.assert(
      fc.property(
        fc.oneof(pairArb, fiveNodePairArb),
        seedArb,
        fc.constantFrom('node-uniform', 'cell-swap', 'random') as fc.Arbitrary<
          'node-uniform' | 'cell-swap' | 'random'
        >,
        ([a, b], seed, mode) => {
          const [c1, c2] = crossoverGenotypes(a!, b!, Rng.fromSeed(seed), mode);
          for (const cell of ['normal', 'reduce'] as const) {
            const [na, nb, n1, n2] = [a!, b!, c1, c2].map((g) => nodesOf(g[cell]));
            n1!.forEach((node, i) => {
              // Child 1 and child 2 take node i from complementary parents.
              const fromA = JSON.stringify(node) === JSON.stringify(na![i]);
              const fromB = JSON.stringify(node) === JSON.stringify(nb![i]);
              expect(fromA || fromB).toBe(true);
              const other = JSON.stringify(n2![i]);
              expect(other === JSON.stringify(fromA ? nb![i] : na![i]) || (fromA && fromB)).toBe(
                true,
              );
            });
          }
          expect(genotypeProblems(c1)).toEqual([]);
          expect(genotypeProblems(c2)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cell-swap exchanges whole reduction cells', () => {
    const a = getPublishedGenotype('DARTS_V2');
    const b = getPublishedGenotype('PDARTS');
    const [c1, c2] = crossoverGenotypes(a, b, Rng.fromSeed(1), 'cell-swap');
    expect(c1).toEqual({ ...a, reduce: b.reduce, reduce_concat: b.reduce_concat });
    expect(c2).toEqual({ ...b, reduce: a.reduce, reduce_concat: a.reduce_concat });
  });

  it('node-uniform mixes nodes of both parents and is deterministic per seed', () => {
    const a = sampleGenotype(Rng.fromSeed(1), { nodes: 6 });
    const b = sampleGenotype(Rng.fromSeed(2), { nodes: 6 });
    let mixed = 0;
    for (let seed = 0; seed < 20; seed++) {
      const [c1] = crossoverGenotypes(a, b, Rng.fromSeed(seed));
      expect(crossoverGenotypes(a, b, Rng.fromSeed(seed))[0]).toEqual(c1);
      const h = genotypeHash(c1);
      if (h !== genotypeHash(a) && h !== genotypeHash(b)) mixed++;
    }
    expect(mixed).toBeGreaterThan(15);
  });

  it('rejects parents with different node counts and unknown modes', () => {
    const a = getPublishedGenotype('DARTS_V2');
    const b = getPublishedGenotype('NASNet');
    expect(() => crossoverGenotypes(a, b, Rng.fromSeed(1))).toThrow(InputError);
    expect(() => crossoverGenotypes(a, b, Rng.fromSeed(1))).toThrow(
      "crossover: the parents' normal cells have 4 and 5 nodes; they must have the same number",
    );
    expect(() => crossoverGenotypes(a, a, Rng.fromSeed(1), 'blend' as unknown as 'random')).toThrow(
      "unknown crossover mode 'blend' (expected node-uniform, cell-swap, random)",
    );
  });
});
