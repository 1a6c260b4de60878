import seedrandom from 'seedrandom';
import { InputError } from './errors.js';

/** The complete, JSON-serialisable state of an {@link Rng}: restoring it continues the same sequence. */
export interface RngState {
  readonly i: number;
  readonly j: number;
  readonly S: readonly number[];
}

/**
 * The project's one source of randomness: a seeded ARC4 generator (seedrandom) whose state can be
 * saved and restored exactly. Every random choice (sampling, variation, data subsets, weight
 * initialisation seeds) flows from an instance of this class.
 */
export class Rng {
  private constructor(private readonly prng: seedrandom.StatefulPRNG<seedrandom.State.Arc4>) {}

  static fromSeed(seed: number | string): Rng {
    return new Rng(seedrandom(String(seed), { state: true }));
  }

  static fromState(state: RngState): Rng {
    if (
      !state ||
      !Number.isInteger(state.i) ||
      !Number.isInteger(state.j) ||
      !Array.isArray(state.S) ||
      state.S.length !== 256
    ) {
      throw new InputError('invalid RNG state: expected {i, j, S[256]}');
    }
    return new Rng(seedrandom('', { state: { i: state.i, j: state.j, S: [...state.S] } }));
  }

  /** A copy of the current state. */
  state(): RngState {
    const s = this.prng.state();
    return { i: s.i, j: s.j, S: [...s.S] };
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new RangeError(`Rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.prng() * n);
  }

  /** Uniform integer in [lo, hi] (both included). */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.prng();
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.prng() < p;
  }

  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.choice of an empty list');
    return items[this.int(items.length)] as T;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const k = this.int(i + 1);
      [out[i], out[k]] = [out[k] as T, out[i] as T];
    }
    return out;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.prng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.prng());
  }

  /** A 32-bit integer seed for a component that needs its own seed (e.g. a tfjs initialiser). */
  seed32(): number {
    return this.prng.int32() >>> 0;
  }
}
