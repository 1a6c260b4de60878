/**
 * The few statistics the study's verdicts need, pure: Student's t quantile (two-sided 95%), the
 * one-way ANOVA F test, the regularized incomplete beta function behind it, and Spearman's rank
 * correlation.
 */

/** Two-sided 95% quantiles of Student's t, df 1..30 (then 1.96 is within 2% of the truth past 60). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/** t such that P(|T| <= t) = 0.95 for `df` degrees of freedom (df >= 1). */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`degrees of freedom must be at least 1, got ${df}`);
  const d = Math.floor(df);
  if (d <= 30) return T975[d - 1] as number;
  if (d <= 40) return 2.021;
  if (d <= 60) return 2.0;
  if (d <= 120) return 1.98;
  return 1.96;
}

/** ln Gamma(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta (Numerical Recipes' betacf, modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-12) break;
  }
  return h;
}

/** The regularized incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(F > f) for an F(d1, d2) variable. */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 1;
  if (f === Infinity) return 0;
  return regularizedBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

export interface AnovaResult {
  readonly f: number;
  readonly df1: number;
  readonly df2: number;
  /** P(F > f) under "every group has the same mean". */
  readonly p: number;
}

/** One-way ANOVA of `groups` (k >= 2 groups, N - k >= 1); undefined when that is not met. */
export function oneWayAnova(groups: readonly (readonly number[])[]): AnovaResult | undefined {
  const used = groups.filter((g) => g.length > 0);
  const k = used.length;
  const n = used.reduce((s, g) => s + g.length, 0);
  if (k < 2 || n - k < 1) return undefined;
  const mean = used.flat().reduce((s, x) => s + x, 0) / n;
  let ssb = 0;
  let ssw = 0;
  for (const g of used) {
    const m = g.reduce((s, x) => s + x, 0) / g.length;
    ssb += g.length * (m - mean) ** 2;
    for (const x of g) ssw += (x - m) ** 2;
  }
  const df1 = k - 1;
  const df2 = n - k;
  const msw = ssw / df2;
  const msb = ssb / df1;
  const f = msw > 0 ? msb / msw : msb > 0 ? Infinity : 0;
  return { f, df1, df2, p: fSurvival(f, df1, df2) };
}

function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const r = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]!.v === order[i]!.v) j++;
    const rank = (i + j) / 2 + 1; // ties share their mean rank
    for (let k = i; k <= j; k++) r[order[k]!.i] = rank;
    i = j + 1;
  }
  return r;
}

/** Spearman's rank correlation (Pearson's on ranks, ties averaged); NaN when a side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError('spearman needs two lists of the same length');
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb);
    saa += (ra[i]! - ma) ** 2;
    sbb += (rb[i]! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : Number.NaN;
}

/** P(T <= t) for Student's t with `df` degrees of freedom (df > 0). */
export function tCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T <= t) = `p` for `df` degrees of freedom (bisection on tCdf; 0 < p < 1). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`degrees of freedom must be positive, got ${df}`);
  let lo = -1e6;
  let hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean, standard error and 95% t interval of paired differences (one per seed). */
export interface PairedDifference {
  /** Pairs (seeds) behind it. */
  readonly n: number;
  readonly mean: number;
  /** sd / sqrt(n); NaN with one pair. */
  readonly stderr: number;
  /** n - 1. */
  readonly df: number;
  readonly lower: number;
  readonly upper: number;
}

/**
 * The paired difference a[i] - b[i] (pairs: the same seed), with a 95% interval from Student's t
 * with n - 1 degrees of freedom; undefined when fewer than 2 pairs.
 */
export function pairedDifference(
  a: readonly number[],
  b: readonly number[],
): PairedDifference | undefined {
  if (a.length !== b.length) throw new RangeError('paired samples must have the same length');
  return differenceStats(a.map((x, i) => x - (b[i] as number)));
}

/** {@link PairedDifference} of differences already formed (one per seed). */
export function differenceStats(d: readonly number[]): PairedDifference | undefined {
  const n = d.length;
  if (n < 2) return undefined;
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const variance = d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  const stderr = Math.sqrt(variance / n);
  const half = tQuantile975(n - 1) * stderr;
  return { n, mean, stderr, df: n - 1, lower: mean - half, upper: mean + half };
}

/** Two-way ANOVA without replication (a randomized complete block design). */
export interface BlockAnovaResult extends AnovaResult {
  /** Treatments (architectures) and blocks (seeds). */
  readonly treatments: number;
  readonly blocks: number;
  readonly ssTreatment: number;
  readonly ssBlock: number;
  readonly ssError: number;
  /** The residual mean square: the architecture x seed variance that pairing leaves. */
  readonly msError: number;
  /** The blocks' F test (does the seed shift every architecture alike?). */
  readonly blockF: number;
  readonly blockP: number;
}

/**
 * Two-way ANOVA of `table[i][j]` (treatment i, block j; one observation per cell, every cell
 * present): F = MS_treatment / MS_error with (a - 1, (a - 1)(b - 1)) degrees of freedom, the
 * block (seed) effect removed from the error. Undefined with fewer than 2 treatments or blocks.
 */
export function blockAnova(table: readonly (readonly number[])[]): BlockAnovaResult | undefined {
  const a = table.length;
  const b = table[0]?.length ?? 0;
  if (a < 2 || b < 2) return undefined;
  if (table.some((row) => row.length !== b)) {
    throw new RangeError('a block design needs every treatment in every block');
  }
  const grand = table.flat().reduce((s, x) => s + x, 0) / (a * b);
  const rowMeans = table.map((row) => row.reduce((s, x) => s + x, 0) / b);
  const colMeans = Array.from(
    { length: b },
    (_, j) => table.reduce((s, row) => s + (row[j] as number), 0) / a,
  );
  const ssTotal = table.flat().reduce((s, x) => s + (x - grand) ** 2, 0);
  const ssTreatment = b * rowMeans.reduce((s, m) => s + (m - grand) ** 2, 0);
  const ssBlock = a * colMeans.reduce((s, m) => s + (m - grand) ** 2, 0);
  const ssError = Math.max(0, ssTotal - ssTreatment - ssBlock);
  const df1 = a - 1;
  const dfBlock = b - 1;
  const df2 = (a - 1) * (b - 1);
  const msError = ssError / df2;
  const ratio = (ms: number) => (msError > 0 ? ms / msError : ms > 0 ? Infinity : 0);
  const f = ratio(ssTreatment / df1);
  const blockF = ratio(ssBlock / dfBlock);
  return {
    f,
    df1,
    df2,
    p: fSurvival(f, df1, df2),
    treatments: a,
    blocks: b,
    ssTreatment,
    ssBlock,
    ssError,
    msError,
    blockF,
    blockP: fSurvival(blockF, dfBlock, df2),
  };
}
