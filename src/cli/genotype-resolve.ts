/**
 * Turns what a user typed into a genotype: a published name (DARTS_V2, case-insensitive), a genotype
 * written out (Python or JSON notation), or the path of a file holding one.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import type { Genotype } from '../core/genotype.js';
import { parseGenotype } from '../core/genotype-parse.js';
import {
  PUBLISHED_GENOTYPE_NAMES,
  findPublishedName,
  getPublishedGenotype,
} from '../core/published-genotypes.js';

/** Largest genotype file read (a genotype is a few hundred bytes). */
const MAX_FILE_BYTES = 1 << 20;

function looksLikeGenotypeText(arg: string): boolean {
  return /^\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*=\s*)?(?:Genotype\s*\(|\{)/.test(arg);
}

function isFile(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `arg` as a genotype: a published name, a genotype string, or a file path (in that order).
 * Throws InputError naming the problem when it is none of these or does not parse.
 */
export function resolveGenotype(arg: string): Genotype {
  if (typeof arg !== 'string' || arg.trim() === '') {
    throw new InputError('genotype: expected a published name, a genotype string or a file path');
  }
  if (findPublishedName(arg) !== undefined) return getPublishedGenotype(arg);
  if (looksLikeGenotypeText(arg)) return parseGenotype(arg);
  if (isFile(arg)) {
    if (statSync(arg).size > MAX_FILE_BYTES) {
      throw new InputError(`genotype file '${arg}' is larger than ${MAX_FILE_BYTES} bytes`);
    }
    const text = readFileSync(arg, 'utf8');
    try {
      const name = findPublishedName(text);
      return name !== undefined ? getPublishedGenotype(name) : parseGenotype(text);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`genotype file '${arg}': ${err.message}`);
      throw err;
    }
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg.trim())) {
    // Looks like a name: let the library say which names exist (and suggest the nearest).
    getPublishedGenotype(arg);
  }
  if (/[()[\]{}]/.test(arg)) return parseGenotype(arg);
  throw new InputError(
    `genotype '${arg}' is not a published name (${PUBLISHED_GENOTYPE_NAMES.join(', ')}), a genotype string or an existing file`,
  );
}
