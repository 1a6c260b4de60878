/**
 * Power before the run (issue 25): the smallest difference each claim can detect at a budget, per
 * data set, in points, and the time a budget takes (an estimate). Pure.
 *
 * Each claim compares paired means: per seed, a difference of PGD accuracies at the reference eps
 * (two architectures for `topology`, the NAS family's mean minus the hand-crafted one's, the
 * largest ensemble minus its members' mean). With S seeds, the difference detected by a two-sided
 * paired t at 95% with power 80% is (t(0.975, S-1) + t(0.80, S-1)) sd / sqrt(S), where sd, the
 * spread over seeds of one seed's difference, is modelled from a pilot as
 *
 *   sd^2 = kappa (residual^2 + p (1 - p) / n)
 *
 * residual: the architecture x seed sd of PGD accuracy once the seed's shared effect is removed
 * (pairing removes it) and the counting error taken out; p (1 - p) / n: the counting error of n
 * test images at accuracy p (counted as if each accuracy had its own images, an upper bound: the
 * same images make a paired difference's counting error smaller); kappa: how many such terms the
 * difference holds (2 for two architectures, 1/a + 1/b for the means of a and b architectures,
 * 1 + 1/k for an ensemble of k against its members' mean). The pilot is the study's own finished
 * seeds when it has two (a resumed study, and after the run), else the figures measured in
 * README's "Noise and the defaults".
 *
 * Time: every evaluation's work counted in multiply-adds (a training image 3 forward passes, an
 * attack's gradient step 2, a forward pass 1, times the network's multiply-adds per image),
 * calibrated on the one quick study measured on an idle 2-core machine (issue 14's quick budget:
 * 60 evaluations in 21.3 minutes with --workers 2). An estimate: the machine, its load and the
 * networks' kernels move it.
 */
import { InputError } from '../core/errors.js';
import type { AttackSpec } from '../core/evaluation.js';
import type { StudyBudget, StudyDataset } from './budgets.js';
import { macsOf, planJobs, type StudyJob } from './plan.js';
import { tQuantile } from './statistics.js';
import { blockTable, type VerdictInput } from './verdicts.js';
import { blockAnova } from './statistics.js';

/** The noise of PGD accuracy at the reference eps that power is computed from. */
export interface NoiseFigures {
  /** Typical PGD accuracy at the reference eps (for the counting error). */
  readonly pgdAccuracy: number;
  /** Architecture x seed sd of PGD accuracy, seed effect and counting error removed. */
  readonly residualSd: number;
}

export interface NoisePilot {
  /** Where the figures come from, one sentence. */
  readonly source: string;
  /** Per data set; `default` for data sets without their own figures. */
  readonly figures: Readonly<Record<string, NoiseFigures>>;
}

/**
 * README "Noise and the defaults" (MNIST, the demo's training, PGD at eps 0.05, 6 genotypes x 3
 * seeds, 500 images): within-genotype sd 0.164 of PGD accuracy, of which the seed's shared effect
 * has sd 0.068 (issue 25); mean accuracy 0.72. Residual: sqrt(0.164^2 - 0.068^2 - 0.72 * 0.28 /
 * 500) = 0.148. Pessimistic for the study's networks (their training differs), and the only
 * measured figure before a study has its own seeds.
 */
export const README_PILOT: NoisePilot = {
  source:
    'README "Noise and the defaults" (demo training, MNIST, PGD eps 0.05: seed sd 0.164, of which 0.068 shared by all architectures)',
  figures: {
    default: {
      pgdAccuracy: 0.72,
      residualSd: Math.sqrt(0.164 ** 2 - 0.068 ** 2 - (0.72 * 0.28) / 500),
    },
  },
};

/**
 * The study's own noise figures: per data set with 2 seeds common to its single networks, the
 * residual mean square of the architecture x seed ANOVA less the counting error. Undefined when no
 * data set has them.
 */
export function pilotFromRows(input: VerdictInput): NoisePilot | undefined {
  const figures: Record<string, NoiseFigures> = {};
  let seeds = 0;
  for (const d of input.datasets) {
    const { rows, seeds: common, table } = blockTable(input, d);
    const anova = blockAnova(table);
    if (!anova) continue;
    const n = rows[0]?.robust.find((c) => c.attack === 'pgd')?.n ?? 0;
    const cells = table.flat();
    const p = cells.reduce((a, b) => a + b, 0) / cells.length;
    const counting = n > 0 ? (p * (1 - p)) / n : 0;
    figures[d] = { pgdAccuracy: p, residualSd: Math.sqrt(Math.max(0, anova.msError - counting)) };
    seeds = Math.max(seeds, common.length);
  }
  if (Object.keys(figures).length === 0) return undefined;
  return {
    source: `this study's own results (${seeds} seeds: residual mean square of the architecture x seed ANOVA, counting error removed)`,
    figures,
  };
}

function figuresFor(pilot: NoisePilot, dataset: string): NoiseFigures {
  const f = pilot.figures[dataset] ?? pilot.figures.default;
  if (!f) throw new InputError(`no noise figures for ${dataset} in the pilot (${pilot.source})`);
  return f;
}

export const POWER_CLAIMS = ['topology', 'nas-vs-handcrafted', 'ensemble-gain'] as const;
export type PowerClaim = (typeof POWER_CLAIMS)[number];

export interface DetectableDifference {
  readonly dataset: string;
  readonly claim: PowerClaim;
  /** What is compared, in words. */
  readonly comparison: string;
  readonly seeds: number;
  /** Test images per seed. */
  readonly testImages: number;
  /** sd over seeds of one seed's difference (fraction). */
  readonly sd: number;
  /** Smallest difference detected (95%, two-sided, power 80%), fraction; Infinity below 2 seeds. */
  readonly difference: number;
}

/** (t(0.975, S-1) + t(0.80, S-1)) sd / sqrt(S): the paired t's detectable difference. */
export function minimumDetectable(sd: number, seeds: number): number {
  if (seeds < 2) return Infinity;
  return (powerMultiplier(seeds - 1) * sd) / Math.sqrt(seeds);
}

const multipliers = new Map<number, number>();
/** t(0.975, df) + t(0.80, df), memoized. */
function powerMultiplier(df: number): number {
  let m = multipliers.get(df);
  if (m === undefined) {
    m = tQuantile(0.975, df) + tQuantile(0.8, df);
    multipliers.set(df, m);
  }
  return m;
}

/** Per data set and claim, the smallest detectable difference at `seeds` and the budget's images. */
export function detectableDifferences(
  budget: StudyBudget,
  datasets: readonly StudyDataset[],
  seeds: number,
  pilot: NoisePilot,
): DetectableDifference[] {
  const out: DetectableDifference[] = [];
  for (const d of datasets) {
    const count = (family: 'nas' | 'handcrafted') =>
      family === 'nas' ? budget.nasCells.length : budget.baselines.length;
    const n = budget.perDataset[d].testSize;
    const f = figuresFor(pilot, d);
    const noise = f.residualSd ** 2 + (f.pgdAccuracy * (1 - f.pgdAccuracy)) / n;
    const k = Math.max(0, ...budget.ensembleSizes);
    const claims: [PowerClaim, number, string][] = [
      ['topology', 2, 'two architectures'],
      [
        'nas-vs-handcrafted',
        1 / Math.max(1, count('nas')) + 1 / Math.max(1, count('handcrafted')),
        `the mean of ${count('nas')} NAS cells - the mean of ${count('handcrafted')} hand-crafted networks`,
      ],
    ];
    if (k > 0) claims.push(['ensemble-gain', 1 + 1 / k, `an ensemble of ${k} - its members' mean`]);
    for (const [claim, kappa, comparison] of claims) {
      const sd = Math.sqrt(kappa * noise);
      out.push({
        dataset: d,
        claim,
        comparison,
        seeds,
        testImages: n,
        sd,
        difference: minimumDetectable(sd, seeds),
      });
    }
  }
  return out;
}

/** Forward-pass equivalents per image of an attack (a gradient step counts 2, the final check 1). */
function attackPasses(a: AttackSpec): number {
  const steps = a.name === 'pgd' || a.name === 'apgd-ce' ? a.steps * Math.max(1, a.restarts) : 1;
  return 2 * steps + 1;
}

/** A job's work in multiply-adds (forward-pass equivalents times the networks' multiply-adds). */
export function jobWork(
  job: StudyJob,
  byId: ReadonlyMap<string, StudyJob>,
  budget: StudyBudget,
): number {
  const specs =
    job.kind === 'train' ? [job.spec] : (job.memberJobs ?? []).map((id) => byId.get(id)?.spec);
  const macs = specs.reduce((s, spec) => s + (spec ? macsOf(spec, budget, job.dataset) : 0), 0);
  const c = job.config;
  const train = job.kind === 'train' ? 3 * c.trainSize * c.epochs : 0;
  const attack = c.testSize * (1 + c.attacks.reduce((s, a) => s + attackPasses(a), 0));
  return macs * (train + attack);
}

/** The whole plan's work (see {@link jobWork}). */
export function planWork(
  budget: StudyBudget,
  datasets: readonly StudyDataset[],
  seeds: number,
): number {
  const jobs = planJobs({ budget, datasets, seeds, dataDirs: {} });
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return jobs.reduce((s, j) => s + jobWork(j, byId, budget), 0);
}

/**
 * Issue 14's quick budget, as it was when its study was timed (60 evaluations in 21.3 minutes on
 * an idle 2-core machine, --workers 2): the calibration of {@link estimateMinutes}.
 */
export const CALIBRATION_BUDGET: StudyBudget = {
  description: "issue 14's quick budget (the timing calibration)",
  datasets: ['mnist', 'fashion-mnist'],
  seeds: 2,
  channels: 6,
  layers: 4,
  batchSize: 64,
  learningRate: 0.1,
  nasCells: ['DARTS_V1', 'DARTS_V2', 'PDARTS', 'PC_DARTS_cifar'],
  baselines: ['resnet18', 'vgg16', 'densenet121'],
  randomGenotypes: 5,
  ensembleSizes: [2, 3, 5],
  pgdSteps: 8,
  apgdSteps: 10,
  perDataset: {
    mnist: {
      trainSize: 2500,
      testSize: 150,
      epochs: 2,
      eps: [0.01, 0.03, 0.1, 0.3],
      referenceEps: 0.03,
    },
    'fashion-mnist': {
      trainSize: 950,
      testSize: 150,
      epochs: 5,
      eps: [0.003, 0.01, 0.03, 0.1],
      referenceEps: 0.01,
    },
    cifar10: { trainSize: 950, testSize: 150, epochs: 5, eps: [1 / 255], referenceEps: 1 / 255 },
  },
};
export const CALIBRATION_MINUTES = 21.3;
export const CALIBRATION_WORKERS = 2;

let secondsPerWork: number | undefined;

/** Wall-clock minutes the plan is estimated to take with `workers` (idle machine; an estimate). */
export function estimateMinutes(
  budget: StudyBudget,
  datasets: readonly StudyDataset[],
  seeds: number,
  workers: number,
): number {
  secondsPerWork ??=
    (CALIBRATION_MINUTES * 60 * CALIBRATION_WORKERS) /
    planWork(CALIBRATION_BUDGET, ['mnist', 'fashion-mnist'], 2);
  return (planWork(budget, datasets, seeds) * secondsPerWork) / Math.max(1, workers) / 60;
}

/** What `--target-difference` chose. */
export interface TargetChoice {
  readonly seeds: number;
  /** The budget with each data set's test images set. */
  readonly budget: StudyBudget;
  readonly minutes: number;
  readonly detectable: readonly DetectableDifference[];
}

const TEST_SIZES = [1000, 2000, 5000, 10_000];

/**
 * The cheapest seeds and test images (at least the budget's; at most what each data set's folder
 * holds) at which every claim on every data set detects `target` (a fraction); InputError naming
 * the best reachable when none does within 50 seeds.
 */
export function chooseForTarget(
  budget: StudyBudget,
  datasets: readonly StudyDataset[],
  target: number,
  pilot: NoisePilot,
  workers: number,
  available: Readonly<Partial<Record<StudyDataset, number>>> = {},
): TargetChoice {
  if (!(target > 0)) throw new InputError(`--target-difference must be positive, got ${target}`);
  let best: TargetChoice | undefined;
  let closest = Infinity;
  for (const size of [0, ...TEST_SIZES]) {
    const perDataset = { ...budget.perDataset };
    for (const d of datasets) {
      const p = perDataset[d];
      const wanted = Math.max(p.testSize, size);
      perDataset[d] = { ...p, testSize: Math.min(wanted, available[d] ?? wanted) };
    }
    const sized: StudyBudget = { ...budget, perDataset };
    for (let seeds = 2; seeds <= 50; seeds++) {
      const detectable = detectableDifferences(sized, datasets, seeds, pilot);
      const worst = Math.max(...detectable.map((x) => x.difference));
      closest = Math.min(closest, worst);
      if (worst > target) continue;
      const minutes = estimateMinutes(sized, datasets, seeds, workers);
      if (!best || minutes < best.minutes) best = { seeds, budget: sized, minutes, detectable };
      break;
    }
  }
  if (!best) {
    throw new InputError(
      `--target-difference ${(100 * target).toFixed(1)} points is out of reach within 50 seeds and 10 000 test images (the best: ${(100 * closest).toFixed(1)} points, from ${pilot.source})`,
    );
  }
  return best;
}

/** Lines for the terminal: per data set, the claims' detectable differences. */
export function detectableLines(detectable: readonly DetectableDifference[]): string[] {
  const byDataset = new Map<string, DetectableDifference[]>();
  for (const x of detectable) byDataset.set(x.dataset, [...(byDataset.get(x.dataset) ?? []), x]);
  return [...byDataset.entries()].map(
    ([d, list]) =>
      `${d} (${list[0]?.seeds} seeds, ${list[0]?.testImages} test images): ` +
      list
        .map(
          (x) =>
            `${x.claim} ${Number.isFinite(x.difference) ? (100 * x.difference).toFixed(1) : 'n/a'} points`,
        )
        .join(', '),
  );
}
