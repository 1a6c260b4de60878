/**
 * Prints a genotype as DARTS prints it (`Genotype(normal=[('sep_conv_3x3', 0), ...],
 * normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])`) or as compact JSON
 * (`{"normal":[["sep_conv_3x3",0],...],"normal_concat":[2,3,4,5],...}`), both on one line.
 * {@link parseGenotype} reads either back to an equal genotype.
 */
import { InputError } from './errors.js';
import type { Edge, Genotype } from './genotype.js';

export const GENOTYPE_FORMATS = ['python', 'json'] as const;
export type GenotypeFormat = (typeof GENOTYPE_FORMATS)[number];

function pythonEdges(edges: readonly Edge[]): string {
  return `[${edges.map(([op, input]) => `('${op}', ${input})`).join(', ')}]`;
}

function pythonList(items: readonly number[]): string {
  return `[${items.join(', ')}]`;
}

export function formatGenotype(g: Genotype, format: GenotypeFormat = 'python'): string {
  if (format === 'json') {
    return JSON.stringify({
      normal: g.normal.map(([op, input]) => [op, input]),
      normal_concat: [...g.normal_concat],
      reduce: g.reduce.map(([op, input]) => [op, input]),
      reduce_concat: [...g.reduce_concat],
    });
  }
  if (format === 'python') {
    return (
      `Genotype(normal=${pythonEdges(g.normal)}, normal_concat=${pythonList(g.normal_concat)}, ` +
      `reduce=${pythonEdges(g.reduce)}, reduce_concat=${pythonList(g.reduce_concat)})`
    );
  }
  throw new InputError(`unknown genotype format '${String(format)}' (expected python or json)`);
}
