import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { genotypeProblems, validateGenotype } from '../../src/core/genotype-validate.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

const darts = getPublishedGenotype('DARTS_V2');

/** DARTS_V2 as plain mutable JSON data, with `edit` applied. */
function edited(edit: (g: Record<string, unknown[]>) => void): unknown {
  const g = JSON.parse(JSON.stringify(darts)) as Record<string, unknown[]>;
  edit(g);
  return g;
}

describe('validateGenotype', () => {
  it('accepts DARTS (4 nodes) and NASNet (5 nodes, repeated inputs, partial concat) cells', () => {
    expect(genotypeProblems(darts)).toEqual([]);
    expect(genotypeProblems(getPublishedGenotype('NASNet'))).toEqual([]);
    expect(validateGenotype(darts)).toEqual(darts);
    expect(validateGenotype(darts)).not.toBe(darts);
  });

  it('names cell, node and edge of an unknown op and suggests the nearest', () => {
    const g = edited((g) => {
      g.normal![5] = ['sep_conv_3x4', 0];
      g.reduce![0] = ['max_pooling_3x3', 0];
      g.reduce![1] = ['banana', 1];
    });
    expect(genotypeProblems(g)).toEqual([
      "normal cell, node 2 (edge 1): unknown op 'sep_conv_3x4' (did you mean 'sep_conv_3x3'?)",
      "reduce cell, node 0 (edge 0): unknown op 'max_pooling_3x3' (did you mean 'max_pool_3x3'?)",
      "reduce cell, node 0 (edge 1): unknown op 'banana' (known ops: none, max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5, sep_conv_7x7, conv_7x1_1x7)",
    ]);
  });

  it('names inputs out of range with the states the node may read', () => {
    const g = edited((g) => {
      g.reduce![6] = ['skip_connect', 7];
      g.normal![0] = ['sep_conv_3x3', -1];
      g.normal![1] = ['sep_conv_3x3', 2];
      g.normal![2] = ['sep_conv_3x3', 1.5];
    });
    expect(genotypeProblems(g)).toEqual([
      'normal cell, node 0 (edge 0): input -1 out of range (node 0 may read states 0..1)',
      'normal cell, node 0 (edge 1): input 2 out of range (node 0 may read states 0..1)',
      'normal cell, node 1 (edge 0): input must be an integer state index, found 1.5',
      'reduce cell, node 3 (edge 0): input 7 out of range (node 3 may read states 0..4)',
    ]);
  });

  it('rejects a node with other than two inputs, and malformed edges', () => {
    expect(genotypeProblems(edited((g) => g.normal!.pop()))).toEqual([
      'normal cell: 7 edges, expected two per node',
    ]);
    expect(genotypeProblems(edited((g) => (g.reduce = [])))).toEqual([
      'reduce cell: 0 edges, expected two per node and at least one node',
      'reduce_concat: names state 2 but the cell has states 0..1',
      'reduce_concat: names state 3 but the cell has states 0..1',
      'reduce_concat: names state 4 but the cell has states 0..1',
      'reduce_concat: names state 5 but the cell has states 0..1',
    ]);
    expect(genotypeProblems(edited((g) => (g.normal![3] = ['sep_conv_3x3', 1, 2])))).toEqual([
      'normal cell, node 1 (edge 1): expected an (op, input) pair, found ["sep_conv_3x3",1,2]',
    ]);
  });

  it('rejects a concat naming a missing, input or repeated state', () => {
    expect(genotypeProblems(edited((g) => (g.normal_concat = [2, 3, 4, 9])))).toEqual([
      'normal_concat: names state 9 but the cell has states 0..5',
    ]);
    expect(genotypeProblems(edited((g) => (g.reduce_concat = [1, 3, 3])))).toEqual([
      'reduce_concat: names state 1, an input of the cell; only intermediate states 2..5 can be concatenated',
      'reduce_concat: names state 3 twice',
    ]);
    expect(genotypeProblems(edited((g) => (g.normal_concat = [])))).toEqual([
      'normal_concat: empty, expected at least one state',
    ]);
  });

  it('rejects values that are not genotypes at all', () => {
    expect(genotypeProblems(null)[0]).toMatch(/^genotype must be an object/);
    expect(genotypeProblems([1, 2])[0]).toMatch(/^genotype must be an object/);
    expect(genotypeProblems({ normal: [], normal_concat: [] })).toEqual([
      'reduce: missing',
      'reduce_concat: missing',
    ]);
    expect(genotypeProblems(edited((g) => ((g as Record<string, unknown>).normal = 'x')))).toEqual([
      "normal: expected a list, found 'x'",
    ]);
    expect(genotypeProblems(edited((g) => ((g as Record<string, unknown>).extra = [])))).toEqual([
      'extra: unknown field (expected normal, normal_concat, reduce, reduce_concat)',
    ]);
    expect(() => validateGenotype({})).toThrow(InputError);
    expect(() => validateGenotype(edited((g) => (g.normal_concat = [9])))).toThrow(
      'invalid genotype: normal_concat: names state 9 but the cell has states 0..5',
    );
  });
});
