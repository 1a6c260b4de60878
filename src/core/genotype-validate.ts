/**
 * Checks that a value is a well-formed DARTS genotype and says precisely what is wrong when it is
 * not, naming the cell, node and field: "normal cell, node 2 (edge 1): unknown op 'sep_conv_3x4'
 * (did you mean 'sep_conv_3x3'?)". Any number of intermediate nodes is accepted (4 in DARTS,
 * 5 in NASNet/AmoebaNet/ENAS); the normal and the reduction cell may differ in node count.
 */
import { z } from 'zod';
import { InputError } from './errors.js';
import { OPERATIONS, type CellKind, type Edge, type Genotype, isOpName } from './genotype.js';

const CELLS: readonly CellKind[] = ['normal', 'reduce'];

const genotypeShape = z.object({
  normal: z.array(z.unknown()),
  normal_concat: z.array(z.unknown()),
  reduce: z.array(z.unknown()),
  reduce_concat: z.array(z.unknown()),
});

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The candidate nearest to `name` by edit distance (case-insensitive), if it is plausibly a typo. */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const limit = Math.max(2, Math.ceil(name.length / 3));
  return bestDistance <= limit ? best : undefined;
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function edgeProblems(cell: CellKind, edges: readonly unknown[]): string[] {
  const problems: string[] = [];
  if (edges.length === 0 || edges.length % 2 !== 0) {
    problems.push(
      `${cell} cell: ${edges.length} edge${edges.length === 1 ? '' : 's'}, expected two per node` +
        (edges.length === 0 ? ' and at least one node' : ''),
    );
  }
  edges.forEach((edge, k) => {
    const node = Math.floor(k / 2);
    const where = `${cell} cell, node ${node} (edge ${k % 2})`;
    if (!Array.isArray(edge) || edge.length !== 2) {
      problems.push(`${where}: expected an (op, input) pair, found ${show(edge)}`);
      return;
    }
    const [op, input] = edge as [unknown, unknown];
    if (typeof op !== 'string') {
      problems.push(`${where}: op must be a name, found ${show(op)}`);
    } else if (!isOpName(op)) {
      const near = nearestName(op, OPERATIONS);
      problems.push(
        `${where}: unknown op '${op}'` +
          (near ? ` (did you mean '${near}'?)` : ` (known ops: ${OPERATIONS.join(', ')})`),
      );
    }
    const maxInput = node + 1;
    if (typeof input !== 'number' || !Number.isInteger(input)) {
      problems.push(`${where}: input must be an integer state index, found ${show(input)}`);
    } else if (input < 0 || input > maxInput) {
      problems.push(
        `${where}: input ${input} out of range (node ${node} may read states 0..${maxInput})`,
      );
    }
  });
  return problems;
}

function concatProblems(cell: CellKind, concat: readonly unknown[], nodes: number): string[] {
  const field = `${cell}_concat`;
  const lastState = nodes + 1;
  const problems: string[] = [];
  if (concat.length === 0) problems.push(`${field}: empty, expected at least one state`);
  const seen = new Set<number>();
  for (const s of concat) {
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      problems.push(`${field}: expected integer state indices, found ${show(s)}`);
    } else if (s < 0 || s > lastState) {
      problems.push(`${field}: names state ${s} but the cell has states 0..${lastState}`);
    } else if (s < 2) {
      problems.push(
        `${field}: names state ${s}, an input of the cell; only intermediate states 2..${lastState} can be concatenated`,
      );
    } else if (seen.has(s)) {
      problems.push(`${field}: names state ${s} twice`);
    }
    if (typeof s === 'number') seen.add(s);
  }
  return problems;
}

/**
 * Every problem with `g` as a genotype, one message each (empty when valid). Never throws.
 */
export function genotypeProblems(g: unknown): string[] {
  if (g === null || typeof g !== 'object' || Array.isArray(g)) {
    return [
      `genotype must be an object with normal, normal_concat, reduce, reduce_concat; found ${show(g)}`,
    ];
  }
  const shape = genotypeShape.safeParse(g);
  if (!shape.success) {
    return shape.error.issues.map((issue) => {
      const field = issue.path.join('.') || 'genotype';
      const value = (g as Record<string, unknown>)[String(issue.path[0])];
      return value === undefined
        ? `${field}: missing`
        : `${field}: expected a list, found ${show(value)}`;
    });
  }
  const problems: string[] = [];
  const extra = Object.keys(g).filter((k) => !(k in genotypeShape.shape));
  for (const k of extra)
    problems.push(`${k}: unknown field (expected normal, normal_concat, reduce, reduce_concat)`);
  for (const cell of CELLS) {
    const edges = shape.data[cell];
    problems.push(...edgeProblems(cell, edges));
    // A half-filled last node still counts as a state, so only the edge count is reported.
    const nodes = Math.ceil(edges.length / 2);
    problems.push(...concatProblems(cell, shape.data[`${cell}_concat`], nodes));
  }
  return problems;
}

/**
 * Returns `g` as a {@link Genotype} (a fresh plain copy) if it is valid; otherwise throws an
 * {@link InputError} listing every problem.
 */
export function validateGenotype(g: unknown): Genotype {
  const problems = genotypeProblems(g);
  if (problems.length > 0) {
    throw new InputError(`invalid genotype: ${problems.join('; ')}`);
  }
  const v = g as Genotype;
  const copyEdges = (edges: readonly Edge[]): Edge[] => edges.map(([op, input]) => [op, input]);
  return {
    normal: copyEdges(v.normal),
    normal_concat: [...v.normal_concat],
    reduce: copyEdges(v.reduce),
    reduce_concat: [...v.reduce_concat],
  };
}
