/**
 * The evaluation cache: results keyed by (canonical genotype hash, evaluation-config hash, seed
 * index), so a genotype evaluated before under the same config is never trained again for the same
 * seed of its (a new seed of it, for repeated evaluation, is a new key).
 */
import { createHash } from 'node:crypto';
import type { EvalConfig } from '../core/evaluation.js';
import type { StoredEvaluation } from '../core/records.js';

/** JSON with object keys sorted, so equal configs always serialise alike. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** 16 hex characters of the SHA-256 of the config's stable JSON. */
export function evalConfigHash(config: EvalConfig): string {
  return createHash('sha256').update(stableStringify(config)).digest('hex').slice(0, 16);
}

/**
 * What the cache keeps of an evaluation: its outcome and the seed that produced it (a cache hit is
 * stored with that seed, not with a newly drawn one), not its position or timing.
 */
export type CachedOutcome = Pick<
  StoredEvaluation,
  'status' | 'scores' | 'objectives' | 'failure' | 'seed'
>;

export class EvaluationCache {
  private readonly entries = new Map<string, CachedOutcome>();

  private static key(genotypeHash: string, configHash: string, seedIndex: number): string {
    return `${genotypeHash}|${configHash}|${seedIndex}`;
  }

  get(genotypeHash: string, configHash: string, seedIndex = 0): CachedOutcome | undefined {
    return this.entries.get(EvaluationCache.key(genotypeHash, configHash, seedIndex));
  }

  /** Keeps the first outcome stored for a key (later duplicates are cache hits themselves). */
  set(genotypeHash: string, configHash: string, outcome: CachedOutcome, seedIndex = 0): void {
    const key = EvaluationCache.key(genotypeHash, configHash, seedIndex);
    if (!this.entries.has(key)) this.entries.set(key, outcome);
  }

  get size(): number {
    return this.entries.size;
  }
}
