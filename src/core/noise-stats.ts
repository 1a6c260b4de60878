/**
 * How much of a score belongs to the architecture and how much to the training seed: a one-way
 * random-effects analysis of variance over groups (one group per genotype, one value per seed).
 * Shared by the noise report, a running search's estimate from its re-evaluated survivors, and the
 * study. Pure functions, no I/O.
 *
 * With k groups, N values, group means m_i and sizes n_i:
 *   MSB = sum n_i (m_i - m)^2 / (k - 1),   MSW = sum (x_ij - m_i)^2 / (N - k),
 *   n0  = (N - sum n_i^2 / N) / (k - 1)    (= n when every group has n values),
 *   ICC(1) = (MSB - MSW) / (MSB + (n0 - 1) MSW)              (Shrout and Fleiss 1979, case 1),
 *   within sd = sqrt(MSW), between sd = sqrt(max(0, (MSB - MSW) / n0)).
 * The reliability of a mean over m seeds is the Spearman-Brown prophecy m ICC / (1 + (m - 1) ICC).
 */

export interface NoiseStats {
  /** Groups (genotypes) that entered: those with at least one value. */
  readonly groups: number;
  /** Values that entered. */
  readonly values: number;
  readonly mean: number;
  /** Standard deviation between seeds of one genotype (sqrt of the within-group mean square). */
  readonly withinSd: number;
  /** Standard deviation of the genotypes' true means (variance component, clipped at 0). */
  readonly betweenSd: number;
  /** ICC(1): the share of a single evaluation's variance that belongs to the genotype; may be < 0. */
  readonly icc: number;
  /**
   * Seeds whose mean reaches a reliability of 0.8 (Spearman-Brown); null when ICC <= 0 (no number
   * of seeds does).
   */
  readonly seedsFor08: number | null;
}

/** Reliability of the mean of `seeds` evaluations when one evaluation has reliability `icc`. */
export function reliabilityAt(icc: number, seeds: number): number {
  if (!(seeds >= 1)) throw new RangeError(`seeds must be at least 1, got ${seeds}`);
  // No share of the variance belongs to the genotype: no number of seeds makes the mean reliable.
  if (icc <= 0) return 0;
  return (seeds * icc) / (1 + (seeds - 1) * icc);
}

/** Smallest number of seeds whose mean reaches `target` reliability; null when ICC <= 0. */
export function seedsForReliability(icc: number, target = 0.8): number | null {
  if (!(target > 0 && target < 1)) throw new RangeError(`target must be in (0, 1), got ${target}`);
  if (!(icc > 0)) return null;
  if (icc >= target) return 1;
  // m icc / (1 + (m - 1) icc) >= t  <=>  m >= t (1 - icc) / (icc (1 - t)).
  const m = (target * (1 - icc)) / (icc * (1 - target));
  // Guard against 3.0000000004 from rounding.
  return Math.max(1, Math.ceil(m - 1e-9));
}

/**
 * The variance components of `groups` (one array of values per genotype). Needs at least two groups
 * and at least one group with two values; otherwise a RangeError naming what is missing. Non-finite
 * values are a RangeError too (a failed evaluation is not a score).
 */
export function noiseStats(groups: readonly (readonly number[])[]): NoiseStats {
  const used = groups.filter((g) => g.length > 0);
  for (const g of used) {
    for (const x of g) {
      if (!Number.isFinite(x))
        throw new RangeError(`noise statistics need finite values, got ${x}`);
    }
  }
  const k = used.length;
  const n = used.reduce((s, g) => s + g.length, 0);
  if (k < 2) throw new RangeError(`noise statistics need at least 2 genotypes, got ${k}`);
  if (n - k < 1) {
    throw new RangeError('noise statistics need at least one genotype evaluated with 2 seeds');
  }
  const means = used.map((g) => g.reduce((s, x) => s + x, 0) / g.length);
  const mean = used.reduce((s, g) => s + g.reduce((t, x) => t + x, 0), 0) / n;
  let ssb = 0;
  let ssw = 0;
  used.forEach((g, i) => {
    ssb += g.length * (means[i]! - mean) ** 2;
    for (const x of g) ssw += (x - means[i]!) ** 2;
  });
  const msb = ssb / (k - 1);
  const msw = ssw / (n - k);
  const n0 = (n - used.reduce((s, g) => s + g.length ** 2, 0) / n) / (k - 1);
  const denominator = msb + (n0 - 1) * msw;
  // Every value equal: no variance at all; the genotype explains nothing and nothing is noise.
  const icc = denominator > 0 ? (msb - msw) / denominator : 0;
  return {
    groups: k,
    values: n,
    mean,
    withinSd: Math.sqrt(msw),
    betweenSd: Math.sqrt(Math.max(0, (msb - msw) / n0)),
    icc,
    seedsFor08: seedsForReliability(icc, 0.8),
  };
}

/** Mean and standard error (sd / sqrt(n), sample sd) of values; stderr 0 for a single value. */
export function meanAndStderr(values: readonly number[]): { mean: number; stderr: number } {
  if (values.length === 0) throw new RangeError('mean of no values');
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  if (values.length === 1) return { mean, stderr: 0 };
  const variance = values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1);
  return { mean, stderr: Math.sqrt(variance / values.length) };
}
