import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalGenotype, genotypeHash } from '../../src/core/canonical.js';
import { OPERATIONS, type Edge, type Genotype, type OpName } from '../../src/core/genotype.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { Rng } from '../../src/core/rng.js';
import { sampleGenotype } from '../../src/core/sampling.js';

const sampled = fc
  .tuple(fc.integer(), fc.integer({ min: 1, max: 6 }))
  .map(([seed, nodes]) => sampleGenotype(Rng.fromSeed(seed), { nodes, ops: OPERATIONS }));

/** `g` with the two edges of the nodes picked by `flip` swapped, and concats shuffled. */
function reordered(g: Genotype, rng: Rng): Genotype {
  const swap = (edges: readonly Edge[]) => {
    const out: Edge[] = [];
    for (let k = 0; k < edges.length; k += 2) {
      const pair = [edges[k] as Edge, edges[k + 1] as Edge];
      out.push(...(rng.bool() ? pair.reverse() : pair));
    }
    return out;
  };
  return {
    normal: swap(g.normal),
    normal_concat: rng.shuffle(g.normal_concat),
    reduce: swap(g.reduce),
    reduce_concat: rng.shuffle(g.reduce_concat),
  };
}

describe('canonical form and hash', () => {
  it('is 16 hex characters and stable across calls and copies', () => {
    const g = getPublishedGenotype('DARTS_V2');
    expect(genotypeHash(g)).toMatch(/^[0-9a-f]{16}$/);
    expect(genotypeHash(JSON.parse(JSON.stringify(g)))).toBe(genotypeHash(g));
  });

  it('ignores the order of a node’s two inputs and of the concat', () => {
    fc.assert(
      fc.property(sampled, fc.integer(), (g, seed) => {
        const r = reordered(g, Rng.fromSeed(seed));
        expect(genotypeHash(r)).toBe(genotypeHash(g));
        expect(canonicalGenotype(r)).toEqual(canonicalGenotype(g));
      }),
      { numRuns: 200 },
    );
  });

  it('differs when any op differs', () => {
    fc.assert(
      fc.property(sampled, fc.nat(), fc.nat(), fc.boolean(), (g, at, pick, inReduce) => {
        const cell = inReduce ? 'reduce' : 'normal';
        const edges = g[cell].map(([op, i]): Edge => [op, i]);
        const k = at % edges.length;
        const [op, input] = edges[k] as Edge;
        const others = OPERATIONS.filter((o) => o !== op);
        edges[k] = [others[pick % others.length] as OpName, input];
        expect(genotypeHash({ ...g, [cell]: edges })).not.toBe(genotypeHash(g));
      }),
      { numRuns: 200 },
    );
  });

  it('differs when an input or the concat differs, and between the two cells', () => {
    const g = getPublishedGenotype('DARTS_V2');
    const rewired = g.normal.map(([op, i], k): Edge => [op, k === 7 ? 3 : i]);
    expect(genotypeHash({ ...g, normal: rewired })).not.toBe(genotypeHash(g));
    expect(genotypeHash({ ...g, reduce_concat: [2, 3, 4] })).not.toBe(genotypeHash(g));
    const swapped = { ...g, normal: g.reduce, reduce: g.normal };
    expect(genotypeHash(swapped)).not.toBe(genotypeHash(g));
  });

  it('orders each node’s edges by input and sorts the concat', () => {
    const c = canonicalGenotype({
      normal: [
        ['skip_connect', 1],
        ['sep_conv_3x3', 0],
        ['max_pool_3x3', 2],
        ['avg_pool_3x3', 2],
      ],
      normal_concat: [3, 2],
      reduce: [
        ['skip_connect', 0],
        ['skip_connect', 1],
      ],
      reduce_concat: [2],
    });
    expect(c.normal).toEqual([
      ['sep_conv_3x3', 0],
      ['skip_connect', 1],
      ['avg_pool_3x3', 2],
      ['max_pool_3x3', 2],
    ]);
    expect(c.normal_concat).toEqual([2, 3]);
  });
});
