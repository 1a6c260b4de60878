/**
 * The founding study's four claims, each judged from the study's rows alone (pure), with the
 * statistic that decides it. A verdict is `supported`, `not supported`, or `inconclusive` (at this
 * budget: too few seeds, architectures or data sets, or an interval that straddles the line).
 * All comparisons use PGD robust accuracy at each data set's reference (small-scale) eps, and
 * 95% intervals from Student's t on the seeds (or on architectures, for families).
 *
 * 1. topology: architectures trained the same way differ in robustness: one-way ANOVA of the
 *    single networks (seeds as replicates) per data set. Supported when p < 0.05/D on each of the D
 *    data sets (Bonferroni); not supported when on every data set the gap between the most and the
 *    least robust architecture is below 1 point with 95% confidence; else inconclusive.
 * 2. nas-vs-handcrafted: NAS cells are more robust than hand-crafted networks on the simplest data
 *    set, and hand-crafted ones more robust on the most complex: the difference of the two
 *    families' means (architectures as units). Supported when the simplest data set's interval is
 *    above 0 and the most complex one's below 0 (Welch's degrees of freedom) (needs 2 data sets); not supported when the
 *    simplest one's is below 0 or the most complex one's above 0; else inconclusive.
 * 3. ensemble-gain: an ensemble of random genotypes is more robust than its members: per seed, the
 *    largest ensemble's accuracy minus its members' mean. Supported when the interval is above 0 on
 *    every data set; not supported when it is below 0 on one; else inconclusive.
 * 4. hrs-ranking: HRS ranks architectures reproducibly while weighing robustness: the reliability
 *    (ICC(1), Spearman-Brown at the seeds run) of the architectures' mean HRS, and the rank
 *    correlation of HRS with clean accuracy. Supported when the reliability is at least 0.8 and
 *    the HRS ranking is not the clean ranking (Spearman < 1) on every data set; not supported when
 *    on one data set HRS differences are seed noise (ICC <= 0) or HRS ranks exactly as clean
 *    accuracy does; else inconclusive.
 */
import { meanAndStderr, noiseStats, reliabilityAt } from '../core/noise-stats.js';
import type { StudyRow } from './aggregate.js';
import { pgdIndex } from './aggregate.js';
import { oneWayAnova, spearman, tQuantile975 } from './statistics.js';

export const VERDICTS = ['supported', 'not supported', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ClaimVerdict {
  readonly id: 'topology' | 'nas-vs-handcrafted' | 'ensemble-gain' | 'hrs-ranking';
  readonly claim: string;
  readonly verdict: Verdict;
  /** The figures that decide the verdict, one line. */
  readonly statistic: string;
}

export interface VerdictInput {
  readonly rows: readonly StudyRow[];
  /** The study's data sets, simplest first. */
  readonly datasets: readonly string[];
  readonly referenceEps: (dataset: string) => number;
  /** Ensemble name -> its members' names. */
  readonly ensembleMembers: Readonly<Record<string, readonly string[]>>;
}

const pts = (x: number, sign = false) => {
  const text = (100 * x).toFixed(1).replace(/^-(0\.0)$/, '$1');
  return `${sign && !text.startsWith('-') ? '+' : ''}${text}`;
};
const pval = (p: number) => (p < 1e-4 ? p.toExponential(1) : p.toPrecision(2));

/** Per-seed PGD accuracy at the reference eps of a row. */
function pgdSeeds(row: StudyRow, eps: number): number[] {
  const i = pgdIndex(row, eps);
  return i < 0 ? [] : row.perSeed.map((s) => s.robust[i] as number);
}

function pgdMean(row: StudyRow, eps: number): number | undefined {
  const v = pgdSeeds(row, eps);
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : undefined;
}

const single = (r: StudyRow) => r.family !== 'ensemble' && r.seeds > 0;

export function judgeTopology(input: VerdictInput): ClaimVerdict {
  const claim = 'Architectures differ in robustness under the same natural training';
  const parts: string[] = [];
  let allSignificant = input.datasets.length > 0;
  let allEquivalent = input.datasets.length > 0;
  const alpha = 0.05 / Math.max(1, input.datasets.length);
  for (const d of input.datasets) {
    const eps = input.referenceEps(d);
    const rows = input.rows.filter((r) => r.dataset === d && single(r));
    const groups = rows.map((r) => pgdSeeds(r, eps)).filter((g) => g.length > 0);
    const anova = oneWayAnova(groups);
    if (!anova) {
      parts.push(`${d}: ${rows.length} architectures, needs 2 seeds for an ANOVA`);
      allSignificant = false;
      allEquivalent = false;
      continue;
    }
    const stats = rows
      .map((r) => ({ r, ...meanAndStderr(pgdSeeds(r, eps)) }))
      .sort((a, b) => b.mean - a.mean);
    const top = stats[0]!;
    const bottom = stats.at(-1)!;
    const gap = top.mean - bottom.mean;
    const se = Math.hypot(top.stderr, bottom.stderr);
    const df = Math.max(1, Math.min(top.r.seeds, bottom.r.seeds) - 1);
    const upper = gap + tQuantile975(df) * se;
    parts.push(
      `${d} (PGD eps ${+eps.toFixed(4)}): F(${anova.df1},${anova.df2}) = ${anova.f.toFixed(2)}, p = ${pval(anova.p)}; ` +
        `${top.r.architecture} - ${bottom.r.architecture} = ${pts(gap)} ± ${pts(se)} points (${rows.length} architectures, ${Math.min(...rows.map((r) => r.seeds))}+ seeds each)`,
    );
    if (!(anova.p < alpha)) allSignificant = false;
    if (!(upper < 0.01)) allEquivalent = false;
  }
  const verdict: Verdict = allSignificant
    ? 'supported'
    : allEquivalent
      ? 'not supported'
      : 'inconclusive';
  return { id: 'topology', claim, verdict, statistic: parts.join('; ') };
}

interface FamilyDiff {
  readonly dataset: string;
  readonly diff: number;
  readonly se: number;
  readonly lower: number;
  readonly upper: number;
  readonly nNas: number;
  readonly nHand: number;
}

function familyDiff(input: VerdictInput, d: string): FamilyDiff | undefined {
  const eps = input.referenceEps(d);
  const means = (family: string) =>
    input.rows
      .filter((r) => r.dataset === d && r.family === family && r.seeds > 0)
      .map((r) => pgdMean(r, eps))
      .filter((m): m is number => m !== undefined);
  const nas = means('nas');
  const hand = means('handcrafted');
  if (nas.length < 2 || hand.length < 2) return undefined;
  const a = meanAndStderr(nas);
  const b = meanAndStderr(hand);
  const diff = a.mean - b.mean;
  const se = Math.hypot(a.stderr, b.stderr);
  const t = tQuantile975(welchDf(a.stderr, nas.length, b.stderr, hand.length));
  return {
    dataset: d,
    diff,
    se,
    lower: diff - t * se,
    upper: diff + t * se,
    nNas: nas.length,
    nHand: hand.length,
  };
}

/** Welch-Satterthwaite degrees of freedom of a difference of two means (at least 1). */
export function welchDf(se1: number, n1: number, se2: number, n2: number): number {
  const v1 = se1 ** 2;
  const v2 = se2 ** 2;
  const den = v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1);
  return den > 0 ? Math.max(1, (v1 + v2) ** 2 / den) : Math.max(1, n1 + n2 - 2);
}

export function judgeNasVsHandcrafted(input: VerdictInput): ClaimVerdict {
  const claim =
    'NAS cells are more robust than hand-crafted networks on simple data sets; hand-crafted ones on complex data sets';
  const diffs = input.datasets.map((d) => ({ d, r: familyDiff(input, d) }));
  const statistic = diffs
    .map(({ d, r }) =>
      r
        ? `${d}: NAS - hand-crafted = ${pts(r.diff, true)} ± ${pts(r.se)} points (95% CI ${pts(r.lower, true)} to ${pts(r.upper, true)}; ${r.nNas} vs ${r.nHand} architectures)`
        : `${d}: needs at least 2 NAS cells and 2 hand-crafted networks with results`,
    )
    .join('; ');
  const simplest = diffs[0]?.r;
  const complex = diffs.length > 1 ? diffs.at(-1)?.r : undefined;
  let verdict: Verdict = 'inconclusive';
  if ((simplest && simplest.upper < 0) || (complex && complex.lower > 0)) verdict = 'not supported';
  else if (simplest && complex && simplest.lower > 0 && complex.upper < 0) verdict = 'supported';
  const note = diffs.length < 2 ? ' (one data set: the trend with complexity is not tested)' : '';
  return { id: 'nas-vs-handcrafted', claim, verdict, statistic: statistic + note };
}

export function judgeEnsembleGain(input: VerdictInput): ClaimVerdict {
  const claim =
    'Ensembles of random DARTS genotypes are more robust than their members (the founding study: nearly 12 points under PGD)';
  const parts: string[] = [];
  let all = input.datasets.length > 0;
  let anyBelow = false;
  for (const d of input.datasets) {
    const eps = input.referenceEps(d);
    const ensembles = input.rows
      .filter((r) => r.dataset === d && r.family === 'ensemble' && r.seeds > 0)
      .sort(
        (a, b) =>
          (input.ensembleMembers[b.architecture]?.length ?? 0) -
          (input.ensembleMembers[a.architecture]?.length ?? 0),
      );
    const ens = ensembles[0];
    if (!ens) {
      parts.push(`${d}: no ensemble results`);
      all = false;
      continue;
    }
    const members = (input.ensembleMembers[ens.architecture] ?? []).map((m) =>
      input.rows.find((r) => r.dataset === d && r.architecture === m),
    );
    const gains: number[] = [];
    const i = pgdIndex(ens, eps);
    for (const s of ens.perSeed) {
      const values = members.map((m) => {
        const k = m ? pgdIndex(m, eps) : -1;
        const seed = m?.perSeed.find((p) => p.seed === s.seed);
        return seed && k >= 0 ? (seed.robust[k] as number) : undefined;
      });
      if (i < 0 || values.some((v) => v === undefined)) continue;
      const mean = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
      gains.push((s.robust[i] as number) - mean);
    }
    if (gains.length < 2) {
      parts.push(`${d}: ${ens.architecture} gain measured on ${gains.length} seed(s), needs 2`);
      all = false;
      continue;
    }
    const g = meanAndStderr(gains);
    const t = tQuantile975(gains.length - 1);
    const lower = g.mean - t * g.stderr;
    const upper = g.mean + t * g.stderr;
    parts.push(
      `${d}: ${ens.architecture} - mean of its members = ${pts(g.mean, true)} ± ${pts(g.stderr)} points (95% CI ${pts(lower, true)} to ${pts(upper, true)}, ${gains.length} seeds, PGD eps ${+eps.toFixed(4)})`,
    );
    if (!(lower > 0)) all = false;
    if (upper < 0) anyBelow = true;
  }
  const verdict: Verdict = anyBelow ? 'not supported' : all ? 'supported' : 'inconclusive';
  return { id: 'ensemble-gain', claim, verdict, statistic: parts.join('; ') };
}

export function judgeHrsRanking(input: VerdictInput): ClaimVerdict {
  const claim = 'HRS = 2CR/(C+R) ranks architectures on clean against robust accuracy';
  const parts: string[] = [];
  let all = input.datasets.length > 0;
  let failed = false;
  for (const d of input.datasets) {
    const rows = input.rows.filter((r) => r.dataset === d && r.seeds > 0);
    const groups = rows.map((r) => r.perSeed.map((s) => s.hrs));
    const seeds = Math.min(...rows.map((r) => r.seeds));
    if (rows.length < 3 || groups.every((g) => g.length < 2)) {
      parts.push(`${d}: ${rows.length} architectures with results, needs 3 with 2 seeds`);
      all = false;
      continue;
    }
    const noise = noiseStats(groups);
    const reliability = reliabilityAt(noise.icc, seeds);
    const rhoClean = spearman(
      rows.map((r) => r.hrs.mean),
      rows.map((r) => r.clean.mean),
    );
    const eps = input.referenceEps(d);
    const rhoRobust = spearman(
      rows.map((r) => r.hrs.mean),
      rows.map((r) => pgdMean(r, eps) ?? Number.NaN),
    );
    const fmt = (x: number) => (Number.isNaN(x) ? 'undefined' : x.toFixed(2));
    parts.push(
      `${d}: ICC(1) of HRS ${noise.icc.toFixed(2)}, reliability of a ${seeds}-seed mean ${reliability.toFixed(2)}; Spearman of HRS with clean ${fmt(rhoClean)}, with PGD ${fmt(rhoRobust)} (${rows.length} architectures)`,
    );
    if (noise.icc <= 0 || rhoClean >= 1 - 1e-12) failed = true;
    if (!(reliability >= 0.8 && rhoClean < 1 - 1e-12)) all = false;
  }
  const verdict: Verdict = failed ? 'not supported' : all ? 'supported' : 'inconclusive';
  return { id: 'hrs-ranking', claim, verdict, statistic: parts.join('; ') };
}

export function judgeClaims(input: VerdictInput): ClaimVerdict[] {
  return [
    judgeTopology(input),
    judgeNasVsHandcrafted(input),
    judgeEnsembleGain(input),
    judgeHrsRanking(input),
  ];
}
