import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { OPERATIONS, type Edge, type Genotype, type OpName } from '../../src/core/genotype.js';
import { formatGenotype } from '../../src/core/genotype-format.js';
import { parseGenotype } from '../../src/core/genotype-parse.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { Rng } from '../../src/core/rng.js';

/** Any valid genotype: 1-6 nodes per cell, any op (even 'none'), any earlier input, any non-empty concat. */
function cellArb(nodes: number): fc.Arbitrary<{ edges: Edge[]; concat: number[] }> {
  const edge = (node: number) =>
    fc.tuple(fc.constantFrom<OpName>(...OPERATIONS), fc.integer({ min: 0, max: node + 1 }));
  const states = Array.from({ length: nodes }, (_, k) => k + 2);
  return fc.record({
    edges: fc
      .tuple(...Array.from({ length: nodes }, (_, node) => fc.tuple(edge(node), edge(node))))
      .map((pairs) => pairs.flat() as Edge[]),
    concat: fc.shuffledSubarray(states, { minLength: 1 }),
  });
}

const genotypeArb: fc.Arbitrary<Genotype> = fc
  .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
  .chain(([n, r]) => fc.tuple(cellArb(n), cellArb(r)))
  .map(([normal, reduce]) => ({
    normal: normal.edges,
    normal_concat: normal.concat,
    reduce: reduce.edges,
    reduce_concat: reduce.concat,
  }));

/** Writes `g` in Python notation with random whitespace, quotes, trailing commas, range() and prefix. */
function messyPython(g: Genotype, rng: Rng): string {
  const ws = () => rng.choice(['', ' ', '  ', '\n', '\n    ', '\t', ' \r\n  ']);
  const q = () => rng.choice(["'", '"']);
  const trailing = () => (rng.bool() ? `${ws()},` : '');
  const edges = (list: readonly Edge[]) =>
    `[${ws()}${list
      .map(([op, i]) => {
        const quote = q();
        return `(${ws()}${quote}${op}${quote}${ws()},${ws()}${i}${ws()}${rng.bool(0.3) ? ',' : ''})`;
      })
      .join(`${ws()},${ws()}`)}${list.length > 0 ? trailing() : ''}${ws()}]`;
  const concat = (list: readonly number[]) => {
    const first = list[0] as number;
    const contiguous = list.every((s, k) => s === first + k);
    if (contiguous && rng.bool())
      return `range(${ws()}${first},${ws()}${first + list.length}${ws()})`;
    return `[${ws()}${list.join(`${ws()},${ws()}`)}${trailing()}${ws()}]`;
  };
  const kw = (name: string, value: string) => `${ws()}${name}${ws()}=${ws()}${value}`;
  const prefix = rng.bool() ? `${rng.choice(['X', 'DARTS_V2', 'my_cell'])}${ws()}=${ws()}` : '';
  return (
    `${ws()}${prefix}Genotype${ws()}(` +
    [
      kw('normal', edges(g.normal)),
      kw('normal_concat', concat(g.normal_concat)),
      kw('reduce', edges(g.reduce)),
      kw('reduce_concat', concat(g.reduce_concat)),
    ].join(`${ws()},`) +
    `${trailing()}${ws()})${ws()}`
  );
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError, but nothing was thrown');
}

describe('formatGenotype / parseGenotype', () => {
  it('prints DARTS_V2 exactly as DARTS prints it', () => {
    expect(formatGenotype(getPublishedGenotype('DARTS_V2'))).toBe(
      "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
    );
    expect(JSON.parse(formatGenotype(getPublishedGenotype('DARTS_V2'), 'json'))).toEqual({
      normal: getPublishedGenotype('DARTS_V2').normal,
      normal_concat: [2, 3, 4, 5],
      reduce: getPublishedGenotype('DARTS_V2').reduce,
      reduce_concat: [2, 3, 4, 5],
    });
  });

  it('parse(format(g)) equals g in both notations', () => {
    fc.assert(
      fc.property(genotypeArb, (g) => {
        expect(parseGenotype(formatGenotype(g, 'python'))).toEqual(g);
        expect(parseGenotype(formatGenotype(g, 'json'))).toEqual(g);
      }),
      { numRuns: 300 },
    );
  });

  it('ignores whitespace, newlines, quote style, trailing commas, range() and a NAME = prefix', () => {
    fc.assert(
      fc.property(genotypeArb, fc.integer(), (g, seed) => {
        const text = messyPython(g, Rng.fromSeed(seed));
        const parsed = parseGenotype(text);
        expect(parsed.normal).toEqual(g.normal);
        expect(parsed.reduce).toEqual(g.reduce);
        expect(parsed.normal_concat).toEqual(g.normal_concat);
        expect(parsed.reduce_concat).toEqual(g.reduce_concat);
      }),
      { numRuns: 300 },
    );
  });

  it('reads pretty-printed JSON, positional Genotype() arguments and comments', () => {
    const g = getPublishedGenotype('PDARTS');
    expect(parseGenotype(JSON.stringify(g, null, 2))).toEqual(g);
    const positional = `Genotype(${formatGenotype(g)
      .slice('Genotype('.length, -1)
      .replace(/\b(normal|normal_concat|reduce|reduce_concat)=/g, '')})`;
    expect(parseGenotype(positional)).toEqual(g);
    expect(parseGenotype(`# the P-DARTS cell\n${formatGenotype(g)}  # end`)).toEqual(g);
    expect(
      parseGenotype(
        "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=range(2, 3), reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=range(2, 3))",
      ),
    ).toEqual({
      normal: [
        ['skip_connect', 0],
        ['skip_connect', 1],
      ],
      normal_concat: [2],
      reduce: [
        ['skip_connect', 0],
        ['skip_connect', 1],
      ],
      reduce_concat: [2],
    });
  });
});

describe('parseGenotype errors', () => {
  const darts = formatGenotype(getPublishedGenotype('DARTS_V2'));

  it('names the position and what was expected when the text is cut short', () => {
    const cut = darts.slice(0, -1); // drop the closing ')'
    expect(errorOf(() => parseGenotype(cut)).message).toBe(
      `genotype: expected ',' or ')' at line 1, column ${cut.length + 1} but found end of input`,
    );
    expect(errorOf(() => parseGenotype("Genotype(normal=[('sep_conv_3x3', 0)")).message).toBe(
      "genotype: expected ',' or ']' at line 1, column 37 but found end of input",
    );
    expect(errorOf(() => parseGenotype("Genotype(normal=[('sep_conv_3x3")).message).toBe(
      "genotype: unterminated string (expected closing ') at line 1, column 19",
    );
    expect(errorOf(() => parseGenotype('Genotype(\n  normal =\n')).message).toBe(
      'genotype: expected a value at line 3, column 1 but found end of input',
    );
  });

  it('rejects every truncation of a genotype with an InputError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: darts.length - 1 }), (end) => {
        const err = errorOf(() => parseGenotype(darts.slice(0, end)));
        expect(err.message).toMatch(/^genotype: /);
      }),
      { numRuns: 200 },
    );
    const json = formatGenotype(getPublishedGenotype('DARTS_V2'), 'json');
    for (let end = 1; end < json.length; end += 7) {
      expect(errorOf(() => parseGenotype(json.slice(0, end))).message).toMatch(/^genotype: /);
    }
  });

  it('names stray tokens, unknown fields, missing fields and eval-able code', () => {
    expect(errorOf(() => parseGenotype(`${darts})`)).message).toBe(
      `genotype: expected end of input at line 1, column ${darts.length + 1} but found ')'`,
    );
    expect(
      errorOf(() => parseGenotype(darts.replace('reduce_concat', 'reduce_concot'))).message,
    ).toMatch(
      /^genotype: unknown field 'reduce_concot' at line 1, column \d+ \(expected normal, normal_concat, reduce, reduce_concat\)$/,
    );
    expect(
      errorOf(() =>
        parseGenotype(
          "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2])",
        ),
      ).message,
    ).toBe('genotype: missing fields reduce, reduce_concat');
    expect(errorOf(() => parseGenotype("__import__('os').system('true')")).message).toMatch(
      /^genotype: /,
    );
    expect(errorOf(() => parseGenotype('   ')).message).toBe('genotype: empty input');
    expect(errorOf(() => parseGenotype('['.repeat(100_000))).message).toBe(
      'genotype: nesting deeper than 32 levels at line 1, column 33',
    );
    expect(errorOf(() => parseGenotype('Genotype(normal=[1; 2])')).message).toBe(
      "genotype: unexpected character ';' at line 1, column 19",
    );
  });

  it('passes semantic problems on with cell, node and field', () => {
    const badOp = darts.replace(
      "('sep_conv_3x3', 1), ('skip_connect', 0)",
      "('sep_conv_3x3', 1), ('sep_conv_3x4', 0)",
    );
    expect(errorOf(() => parseGenotype(badOp)).message).toBe(
      "invalid genotype: normal cell, node 2 (edge 1): unknown op 'sep_conv_3x4' (did you mean 'sep_conv_3x3'?)",
    );
    const badInput = darts.replace(
      "('skip_connect', 2), ('max_pool_3x3', 1)]",
      "('skip_connect', 7), ('max_pool_3x3', 1)]",
    );
    expect(errorOf(() => parseGenotype(badInput)).message).toBe(
      'invalid genotype: reduce cell, node 3 (edge 0): input 7 out of range (node 3 may read states 0..4)',
    );
    const sevenEdges = darts.replace(", ('dil_conv_3x3', 2)]", ']');
    expect(errorOf(() => parseGenotype(sevenEdges)).message).toBe(
      'invalid genotype: normal cell: 7 edges, expected two per node',
    );
    const badConcat = darts.replace('normal_concat=[2, 3, 4, 5]', 'normal_concat=[2, 3, 4, 9]');
    expect(errorOf(() => parseGenotype(badConcat)).message).toBe(
      'invalid genotype: normal_concat: names state 9 but the cell has states 0..5',
    );
  });
});
