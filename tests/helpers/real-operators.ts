/**
 * Variation operators for real-valued vectors in a box, as pymoo's defaults for NSGA-II:
 * uniform sampling, simulated binary crossover (SBX, Deb & Agrawal 1995) and polynomial mutation (PM).
 * Used by the ZDT benchmark problems that validate the engine.
 */
import type { Rng } from '../../src/core/rng.js';
import type { Operators } from '../../src/search/algorithm.js';

export interface Box {
  readonly lower: readonly number[];
  readonly upper: readonly number[];
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

export function uniformSample(box: Box, rng: Rng): number[] {
  return box.lower.map((lo, k) => rng.uniform(lo, box.upper[k]!));
}

/** SBX with distribution index eta; each variable crosses with probability 0.5, children swap with 0.5. */
export function sbx(
  a: readonly number[],
  b: readonly number[],
  box: Box,
  rng: Rng,
  eta = 15,
): [number[], number[]] {
  const c1 = [...a];
  const c2 = [...b];
  for (let k = 0; k < a.length; k++) {
    const lo = box.lower[k]!;
    const hi = box.upper[k]!;
    if (!rng.bool(0.5) || Math.abs(a[k]! - b[k]!) <= 1e-14 || lo === hi) continue;
    const y1 = Math.min(a[k]!, b[k]!);
    const y2 = Math.max(a[k]!, b[k]!);
    const delta = y2 - y1;
    const rand = rng.next();
    const betaq = (beta: number) => {
      const alpha = 2 - Math.pow(beta, -(eta + 1));
      return rand <= 1 / alpha
        ? Math.pow(rand * alpha, 1 / (eta + 1))
        : Math.pow(1 / (2 - rand * alpha), 1 / (eta + 1));
    };
    let v1 = 0.5 * (y1 + y2 - betaq(1 + (2 * (y1 - lo)) / delta) * delta);
    let v2 = 0.5 * (y1 + y2 + betaq(1 + (2 * (hi - y2)) / delta) * delta);
    if (rng.bool(0.5)) [v1, v2] = [v2, v1];
    c1[k] = clamp(v1, lo, hi);
    c2[k] = clamp(v2, lo, hi);
  }
  return [c1, c2];
}

/** Polynomial mutation with distribution index eta; each variable mutates with probability `perVariable`. */
export function polynomialMutation(
  x: readonly number[],
  box: Box,
  rng: Rng,
  eta = 20,
  perVariable = 1 / x.length,
): number[] {
  const y = [...x];
  const pow = 1 / (eta + 1);
  for (let k = 0; k < x.length; k++) {
    const lo = box.lower[k]!;
    const hi = box.upper[k]!;
    if (!rng.bool(perVariable) || lo === hi) continue;
    const v = x[k]!;
    const d1 = (v - lo) / (hi - lo);
    const d2 = (hi - v) / (hi - lo);
    const r = rng.next();
    let dq: number;
    if (r <= 0.5) {
      const val = 2 * r + (1 - 2 * r) * Math.pow(1 - d1, eta + 1);
      dq = Math.pow(val, pow) - 1;
    } else {
      const val = 2 * (1 - r) + 2 * (r - 0.5) * Math.pow(1 - d2, eta + 1);
      dq = 1 - Math.pow(val, pow);
    }
    y[k] = clamp(v + dq * (hi - lo), lo, hi);
  }
  return y;
}

/** pymoo's NSGA-II defaults: SBX(eta 15), PM(eta 20, per variable 1/n, per individual 0.9). */
export function realOperators(box: Box, options: { mutationProbability?: number } = {}) {
  const pIndividual = options.mutationProbability ?? 0.9;
  const ops: Operators<number[]> = {
    sample: (rng) => uniformSample(box, rng),
    crossover: (a, b, rng) => sbx(a, b, box, rng),
    mutate: (x, rng) => (rng.bool(pIndividual) ? polynomialMutation(x, box, rng) : [...x]),
    key: (x) => x.join(','),
  };
  return ops;
}
