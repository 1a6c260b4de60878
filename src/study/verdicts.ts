/**
 * The founding study's four claims, each judged from the study's rows alone (pure), with the
 * statistic that decides it. A verdict is `supported`, `not supported`, or `inconclusive` (at this
 * budget: too few seeds, architectures or data sets, or an interval that straddles the line).
 * All comparisons use PGD robust accuracy at each data set's reference (small-scale) eps. The
 * design is paired (src/study/plan.ts): every network of a data set is trained with the same
 * seeds, so a seed is a block and architectures are compared within it.
 *
 * 1. topology: architectures trained the same way differ in robustness: two-way ANOVA
 *    (architecture x seed, a randomized complete block design) of the single networks on the seeds
 *    they all share, per data set. Supported when p < 0.05/D on each of the D data sets
 *    (Bonferroni); not supported when on every data set the paired difference between the most and
 *    the least robust architecture is below 1 point with 95% confidence; else inconclusive.
 * 2. nas-vs-handcrafted: NAS cells are more robust than hand-crafted networks on the simplest data
 *    set, and hand-crafted ones more robust on the most complex: per seed, the NAS cells' mean minus
 *    the hand-crafted networks' mean; mean, standard error and t interval over seeds (n - 1 df).
 *    Supported when the simplest data set's interval is above 0 and the most complex one's below 0
 *    (needs 2 data sets); not supported when the simplest one's is below 0 or the most complex
 *    one's above 0; else inconclusive.
 * 3. ensemble-gain: an ensemble of random genotypes is more robust than its members: per seed, the
 *    largest ensemble's accuracy minus its members' mean (t interval, n - 1 df). Supported when the
 *    interval is above 0 on every data set; not supported when it is below 0 on one; else
 *    inconclusive.
 * 4. hrs-ranking: HRS ranks architectures reproducibly while weighing robustness: the reliability
 *    (ICC(1), Spearman-Brown at the seeds run) of the architectures' mean HRS, and the rank
 *    correlation of HRS with clean accuracy. Supported when the reliability is at least 0.8 and
 *    the HRS ranking is not the clean ranking (Spearman < 1) on every data set; not supported when
 *    on one data set HRS differences are seed noise (ICC <= 0) or HRS ranks exactly as clean
 *    accuracy does; else inconclusive.
 *
 * Stability (judgeClaims): a claim is decided only when its decision holds with each seed left out
 * in turn; otherwise it is inconclusive, and the leave-one-seed-out verdicts say which seed flips it.
 */
import { meanAndStderr, noiseStats, reliabilityAt } from '../core/noise-stats.js';
import type { StudyRow } from './aggregate.js';
import { pgdIndex } from './aggregate.js';
import { blockAnova, differenceStats, spearman, type PairedDifference } from './statistics.js';

export const VERDICTS = ['supported', 'not supported', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ClaimVerdict {
  readonly id: 'topology' | 'nas-vs-handcrafted' | 'ensemble-gain' | 'hrs-ranking';
  readonly claim: string;
  readonly verdict: Verdict;
  /** The figures that decide the verdict, one line. */
  readonly statistic: string;
}

/** A claim's verdict with its stability: decided only when every leave-one-seed-out agrees. */
export interface StableClaimVerdict extends ClaimVerdict {
  /** The verdict on all seeds, before the stability check. */
  readonly allSeeds: Verdict;
  /** The verdict with each seed left out in turn (every seed with a result). */
  readonly leaveOneSeedOut: readonly { readonly seed: number; readonly verdict: Verdict }[];
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

/** The seeds (sorted) at which every row of `rows` has a result. */
function commonSeeds(rows: readonly StudyRow[]): number[] {
  if (rows.length === 0) return [];
  const sets = rows.map((r) => new Set(r.perSeed.map((s) => s.seed)));
  return [...(sets[0] as Set<number>)]
    .filter((s) => sets.every((set) => set.has(s)))
    .sort((a, b) => a - b);
}

/** PGD accuracy at `eps` of `row` at `seed` (undefined when missing). */
function pgdAt(row: StudyRow, eps: number, seed: number): number | undefined {
  const i = pgdIndex(row, eps);
  const s = row.perSeed.find((p) => p.seed === seed);
  return i >= 0 && s ? (s.robust[i] as number) : undefined;
}

/**
 * The paired design's table of one data set: the single networks with a PGD result at the
 * reference eps, by the seeds they all share (rows: architectures, columns: seeds).
 */
export function blockTable(
  input: VerdictInput,
  dataset: string,
): { rows: StudyRow[]; seeds: number[]; table: number[][] } {
  const eps = input.referenceEps(dataset);
  const rows = input.rows.filter(
    (r) => r.dataset === dataset && single(r) && pgdIndex(r, eps) >= 0,
  );
  const seeds = commonSeeds(rows);
  const table = rows.map((r) => seeds.map((s) => pgdAt(r, eps, s) as number));
  return { rows, seeds, table };
}

export function judgeTopology(input: VerdictInput): ClaimVerdict {
  const claim = 'Architectures differ in robustness under the same natural training';
  const parts: string[] = [];
  let allSignificant = input.datasets.length > 0;
  let allEquivalent = input.datasets.length > 0;
  const alpha = 0.05 / Math.max(1, input.datasets.length);
  for (const d of input.datasets) {
    const eps = input.referenceEps(d);
    const { rows, seeds, table } = blockTable(input, d);
    const anova = blockAnova(table);
    if (!anova) {
      parts.push(
        `${d}: ${rows.length} architectures with ${seeds.length} common seed(s), needs 2 architectures and 2 seeds for the block ANOVA`,
      );
      allSignificant = false;
      allEquivalent = false;
      continue;
    }
    const means = table.map((row) => row.reduce((a, b) => a + b, 0) / row.length);
    const order = means.map((m, i) => ({ m, i })).sort((a, b) => b.m - a.m);
    const top = order[0]!.i;
    const bottom = order.at(-1)!.i;
    const gap = differenceStats(
      (table[top] as number[]).map((x, j) => x - (table[bottom] as number[])[j]!),
    ) as PairedDifference;
    parts.push(
      `${d} (PGD eps ${+eps.toFixed(4)}): architecture x seed ANOVA F(${anova.df1},${anova.df2}) = ${anova.f.toFixed(2)}, p = ${pval(anova.p)} ` +
        `(seed as a block: F(${seeds.length - 1},${anova.df2}) = ${anova.blockF.toFixed(2)}, p = ${pval(anova.blockP)}); ` +
        `${rows[top]!.architecture} - ${rows[bottom]!.architecture} = ${pts(gap.mean)} ± ${pts(gap.stderr)} points paired (${rows.length} architectures, ${seeds.length} seeds)`,
    );
    if (!(anova.p < alpha)) allSignificant = false;
    if (!(gap.upper < 0.01)) allEquivalent = false;
  }
  const verdict: Verdict = allSignificant
    ? 'supported'
    : allEquivalent
      ? 'not supported'
      : 'inconclusive';
  return { id: 'topology', claim, verdict, statistic: parts.join('; ') };
}

interface FamilyDiff extends PairedDifference {
  readonly dataset: string;
  readonly nNas: number;
  readonly nHand: number;
}

/**
 * NAS minus hand-crafted, paired by seed: per seed, the mean of the NAS cells minus the mean of the
 * hand-crafted networks (those with a result at every seed used), then mean, standard error and
 * t interval over seeds (n - 1 degrees of freedom). The architectures are these ones (fixed), the
 * seeds the replicates.
 */
export function familyDiff(input: VerdictInput, d: string): FamilyDiff | undefined {
  const eps = input.referenceEps(d);
  const of = (family: string) =>
    input.rows.filter(
      (r) => r.dataset === d && r.family === family && r.seeds > 0 && pgdIndex(r, eps) >= 0,
    );
  const nas = of('nas');
  const hand = of('handcrafted');
  if (nas.length < 1 || hand.length < 1) return undefined;
  const seeds = commonSeeds([...nas, ...hand]);
  const mean = (rows: StudyRow[], seed: number) =>
    rows.reduce((s, r) => s + (pgdAt(r, eps, seed) as number), 0) / rows.length;
  const diff = differenceStats(seeds.map((s) => mean(nas, s) - mean(hand, s)));
  return diff ? { ...diff, dataset: d, nNas: nas.length, nHand: hand.length } : undefined;
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
        ? `${d}: NAS - hand-crafted = ${pts(r.mean, true)} ± ${pts(r.stderr)} points paired by seed (95% CI ${pts(r.lower, true)} to ${pts(r.upper, true)}; ${r.nNas} vs ${r.nHand} architectures, ${r.n} seeds)`
        : `${d}: needs a NAS cell and a hand-crafted network with results at 2 common seeds`,
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
    const g = differenceStats(gains);
    if (!g) {
      parts.push(`${d}: ${ens.architecture} gain measured on ${gains.length} seed(s), needs 2`);
      all = false;
      continue;
    }
    const { lower, upper } = g;
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

function judgeAll(input: VerdictInput): ClaimVerdict[] {
  return [
    judgeTopology(input),
    judgeNasVsHandcrafted(input),
    judgeEnsembleGain(input),
    judgeHrsRanking(input),
  ];
}

/** `rows` without the results of `seed` (means recomputed from the seeds left). */
export function withoutSeed(rows: readonly StudyRow[], seed: number): StudyRow[] {
  const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN);
  return rows.map((r) => {
    const perSeed = r.perSeed.filter((s) => s.seed !== seed);
    if (perSeed.length === r.perSeed.length) return r;
    const stat = (v: number[]) =>
      v.length >= 2 ? meanAndStderr(v) : { mean: mean(v), stderr: Number.NaN };
    return {
      ...r,
      seeds: perSeed.length,
      perSeed,
      clean: stat(perSeed.map((s) => s.clean)),
      hrs: stat(perSeed.map((s) => s.hrs)),
      robust: r.robust.map((c, i) => ({
        ...c,
        ...stat(perSeed.map((s) => s.robust[i] as number)),
      })),
    };
  });
}

/**
 * The four verdicts, each decided (supported / not supported) only when the decision on all seeds
 * holds with each seed left out in turn; otherwise inconclusive, saying which seed flips it.
 */
export function judgeClaims(input: VerdictInput): StableClaimVerdict[] {
  const all = judgeAll(input);
  const seeds = [...new Set(input.rows.flatMap((r) => r.perSeed.map((s) => s.seed)))].sort(
    (a, b) => a - b,
  );
  const loso = seeds.map((seed) => ({
    seed,
    claims: judgeAll({ ...input, rows: withoutSeed(input.rows, seed) }),
  }));
  return all.map((c, k) => {
    const leaveOneSeedOut = loso.map((l) => ({ seed: l.seed, verdict: l.claims[k]!.verdict }));
    const flips = leaveOneSeedOut.filter((l) => l.verdict !== c.verdict);
    const decided = c.verdict !== 'inconclusive';
    const stable = decided && seeds.length >= 2 && flips.length === 0;
    const note = !decided
      ? ''
      : stable
        ? ` [holds with each of the ${seeds.length} seeds left out]`
        : seeds.length < 2
          ? ` [${c.verdict} on one seed: no seed can be left out]`
          : ` [${c.verdict} on all seeds, but ${flips.map((f) => `${f.verdict} without seed ${f.seed}`).join(', ')}: not stable]`;
    return {
      ...c,
      verdict: decided && !stable ? 'inconclusive' : c.verdict,
      statistic: c.statistic + note,
      allSeeds: c.verdict,
      leaveOneSeedOut,
    };
  });
}
