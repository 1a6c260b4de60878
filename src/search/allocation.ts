/**
 * Racing re-evaluation (a swappable part of the search: which candidates get the next seeds). After
 * survival, each candidate's chance of belonging to the Pareto front is judged from its means and
 * standard errors; the next seeds go to the candidates whose membership is most uncertain, within a
 * fixed budget per generation, and a candidate whose place is settled (or that reached maxSeeds)
 * gets none. In the spirit of racing over seeds (SMAC's intensifier, F-race), for several objectives.
 *
 * P(j dominates i) is approximated by the product over objectives of P(j is better than i on k),
 * each the normal probability of the difference of their means given their standard errors
 * (objectives treated as independent); P(i on the front) = product over j of (1 - P(j dominates i)).
 * Uncertainty p (1 - p) is largest at p = 1/2. Pure functions (minimisation form), no I/O.
 */

export interface RacingCandidate {
  /** Means in minimisation form (maximised objectives negated). */
  readonly mean: readonly number[];
  readonly stderr: readonly number[];
  /** Seeds evaluated (the next seed's index). */
  readonly evaluatedSeeds: number;
}

/** The standard normal distribution function (Abramowitz-Stegun 7.1.26 on erf; error < 1.5e-7). */
export function normalCdf(z: number): number {
  if (z === Number.POSITIVE_INFINITY) return 1;
  if (z === Number.NEGATIVE_INFINITY) return 0;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** P(b is no worse than a on objective k): the chance that b's true mean is below a's. */
function betterChance(a: RacingCandidate, b: RacingCandidate, k: number): number {
  const d = a.mean[k]! - b.mean[k]!;
  const s = Math.hypot(a.stderr[k]!, b.stderr[k]!);
  if (s === 0) return d > 0 ? 1 : d < 0 ? 0 : 0.5;
  return normalCdf(d / s);
}

/** For each candidate, the approximate probability that no other dominates it. */
export function frontProbabilities(candidates: readonly RacingCandidate[]): number[] {
  return candidates.map((a, i) => {
    let p = 1;
    candidates.forEach((b, j) => {
      if (i === j) return;
      let dom = 1;
      for (let k = 0; k < a.mean.length; k++) dom *= betterChance(a, b, k);
      p *= 1 - dom;
    });
    return p;
  });
}

export interface RacingOptions {
  /** Re-evaluations this generation at most. */
  readonly budget: number;
  readonly maxSeeds: number;
  /** A candidate with p below this or above 1 - this is settled (default 0.05; 0: none is). */
  readonly settled?: number;
}

/**
 * Indices of the candidates to evaluate once more, most uncertain first (ties: lower index first),
 * at most `budget`, none settled or at maxSeeds.
 */
export function racingChoice(
  candidates: readonly RacingCandidate[],
  options: RacingOptions,
): number[] {
  const settled = options.settled ?? 0.05;
  const p = frontProbabilities(candidates);
  return candidates
    .map((c, i) => ({ i, p: p[i]!, c }))
    .filter(
      ({ p, c }) =>
        c.evaluatedSeeds < options.maxSeeds && (settled === 0 || (p > settled && p < 1 - settled)),
    )
    .sort((a, b) => b.p * (1 - b.p) - a.p * (1 - a.p) || a.i - b.i)
    .slice(0, Math.max(0, options.budget))
    .map(({ i }) => i);
}
