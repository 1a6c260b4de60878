import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { genotypeHash } from '../../src/core/canonical.js';
import { genotypeProblems } from '../../src/core/genotype-validate.js';
import { parseGenotype } from '../../src/core/genotype-parse.js';
import { PUBLISHED_GENOTYPES, getPublishedGenotype } from '../../src/core/published-genotypes.js';

const NAMES = [
  'DARTS_V1',
  'DARTS_V2',
  'PC_DARTS_cifar',
  'PC_DARTS_image',
  'PDARTS',
  'NASNet',
  'AmoebaNet',
  'ENAS',
];

describe('published genotypes', () => {
  it('holds exactly the published cells', () => {
    expect(Object.keys(PUBLISHED_GENOTYPES)).toEqual(NAMES);
  });

  it.each(NAMES)(
    '%s parses from its original Python text, validates and cites its source',
    (name) => {
      const entry = PUBLISHED_GENOTYPES[name]!;
      expect(entry.python.startsWith(`${name} = Genotype(`)).toBe(true);
      const parsed = parseGenotype(entry.python);
      expect(parsed).toEqual(entry.genotype);
      expect(genotypeProblems(entry.genotype)).toEqual([]);
      expect(entry.source).toMatch(/github\.com\/[\w-]+\/[\w-]+, [\w/]+\.py/);
      expect(entry.source).toMatch(/(19|20)\d\d/);
    },
  );

  it('has the node counts and concats of the papers', () => {
    const nodes = (name: string) => getPublishedGenotype(name).normal.length / 2;
    for (const name of ['DARTS_V1', 'DARTS_V2', 'PC_DARTS_cifar', 'PC_DARTS_image', 'PDARTS']) {
      expect(nodes(name)).toBe(4);
      expect(getPublishedGenotype(name).normal_concat).toEqual([2, 3, 4, 5]);
    }
    for (const name of ['NASNet', 'AmoebaNet', 'ENAS']) expect(nodes(name)).toBe(5);
    expect(getPublishedGenotype('NASNet').reduce_concat).toEqual([4, 5, 6]);
    expect(getPublishedGenotype('AmoebaNet').reduce[8]).toEqual(['conv_7x1_1x7', 0]);
    expect(getPublishedGenotype('ENAS').reduce_concat).toEqual([2, 3, 6]);
    expect(getPublishedGenotype('DARTS_V2').normal[7]).toEqual(['dil_conv_3x3', 2]);
  });

  it('are distinct networks', () => {
    const hashes = NAMES.map((n) => genotypeHash(getPublishedGenotype(n)));
    expect(new Set(hashes).size).toBe(NAMES.length);
  });

  it('are found case-insensitively; an unknown name lists the known ones', () => {
    expect(getPublishedGenotype('darts_v2')).toEqual(PUBLISHED_GENOTYPES.DARTS_V2!.genotype);
    expect(getPublishedGenotype(' pdarts ')).toEqual(PUBLISHED_GENOTYPES.PDARTS!.genotype);
    expect(() => getPublishedGenotype('DARTS_V3')).toThrow(InputError);
    expect(() => getPublishedGenotype('DARTS_V3')).toThrow(
      /^unknown genotype name 'DARTS_V3' \(did you mean 'DARTS_V[12]'\?\); known names: DARTS_V1, DARTS_V2, PC_DARTS_cifar, PC_DARTS_image, PDARTS, NASNet, AmoebaNet, ENAS$/,
    );
  });

  it('cannot be modified by a caller', () => {
    const g = getPublishedGenotype('DARTS_V2');
    expect(Object.isFrozen(g)).toBe(true);
    expect(Object.isFrozen(g.normal)).toBe(true);
    expect(Object.isFrozen(g.normal[0])).toBe(true);
  });
});
