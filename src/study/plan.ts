/**
 * A study's plan: its settings (budget, data sets, seeds) turned into the list of evaluations to
 * run, each a plain-data job with a stable id. Every network of a data set gets the same natural
 * training and the same attacks; random genotypes keep their trained weights so that the ensembles
 * (the first k random genotypes, for each ensemble size k) reuse them and are only attacked.
 *
 * Paired design: every network of a data set is trained with the same seeds 1..S. The evaluation
 * seed drives the weight initialisation stream and the batch order (src/evaluator/evaluate.ts,
 * train.ts), and the test images are the same for all (config.dataSeed 0), so seed k is one block
 * shared by every architecture: the verdicts compare architectures within a seed (paired
 * differences, a two-way ANOVA with seed as a block). Ensembles of seed k reuse their members'
 * seed-k weights.
 *
 * Budgets with `sweepSeeds`: every seed's evaluation runs the claims' attack (PGD at the reference
 * eps) on `testSize` images; the first `sweepSeeds` seeds also get a `sweep` job that loads the
 * trained weights and runs the whole eps sweep (and APGD-CE) on `sweepTestSize` images, as
 * description.
 *
 * Baseline widths: the hand-crafted networks are scaled (width multiplier) to the parameter count
 * of the median NAS cell network at the study's size, so that topology, not size, is compared.
 */
import type { AttackSpec, EvalConfig } from '../core/evaluation.js';
import { evalConfigSchema } from '../core/evaluation.js';
import type { Genotype } from '../core/genotype.js';
import { getPublishedGenotype } from '../core/published-genotypes.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';
import type { ArchitectureSpec, BaselineArch } from '../evaluator/architecture.js';
import { complexityOf } from '../evaluator/complexity.js';
import { datasetSpec } from '../evaluator/datasets/registry.js';
import type { StudyBudget, StudyDataset } from './budgets.js';

export const FAMILIES = ['nas', 'handcrafted', 'random', 'ensemble'] as const;
export type Family = (typeof FAMILIES)[number];

/** One network (or ensemble) of the study on one data set. */
export interface PlannedArchitecture {
  readonly name: string;
  readonly family: Family;
  /** What to build (not for ensembles). */
  readonly spec?: ArchitectureSpec;
  /** Ensembles: the names of their members (random genotypes). */
  readonly members?: readonly string[];
}

export interface StudyJob {
  /** `<dataset>/<architecture>/seed<k>`: stable across runs, the journal's key. */
  readonly id: string;
  readonly dataset: StudyDataset;
  readonly architecture: string;
  readonly family: Family;
  readonly seed: number;
  /**
   * `train`: build, train and attack one network; `ensemble`: attack members already trained;
   * `sweep`: the eps sweep on a network (or ensemble) already trained (`memberJobs` its weights).
   */
  readonly kind: 'train' | 'ensemble' | 'sweep';
  readonly spec?: ArchitectureSpec;
  /** Ensembles and sweeps: the ids of the jobs whose stored weights they load. */
  readonly memberJobs?: readonly string[];
  /** Keep the trained weights (random genotypes that ensembles reuse). */
  readonly keepWeights: boolean;
  readonly config: EvalConfig;
}

/** What plan() needs: the budget and the choices of this study. */
export interface PlanSettings {
  readonly budget: StudyBudget;
  readonly datasets: readonly StudyDataset[];
  readonly seeds: number;
  /** Per data set, the folder its files are read from (undefined: the evaluator's default). */
  readonly dataDirs: Readonly<Partial<Record<StudyDataset, string>>>;
}

/** The seed of the random genotypes: the same K architectures on every data set and seed. */
export const RANDOM_GENOTYPES_SEED = 'robust-nas study random genotypes';

export function randomGenotypes(count: number): Genotype[] {
  const rng = Rng.fromSeed(RANDOM_GENOTYPES_SEED);
  return Array.from({ length: count }, () => sampleGenotype(rng));
}

/** The attacks every network of `dataset` faces, in report order; APGD-CE last. */
export function studyAttacks(budget: StudyBudget, dataset: StudyDataset): AttackSpec[] {
  const d = budget.perDataset[dataset];
  const sweep = (['fgsm', 'rfgsm', 'stepll', 'pgd'] as const).flatMap((name) =>
    d.eps.map((eps) => ({ name, eps, steps: budget.pgdSteps, restarts: 1 })),
  );
  return [...sweep, { name: 'apgd-ce', eps: d.referenceEps, steps: budget.apgdSteps, restarts: 1 }];
}

/** The claims' attack alone: PGD at the reference eps. */
export function referenceAttacks(budget: StudyBudget, dataset: StudyDataset): AttackSpec[] {
  const eps = budget.perDataset[dataset].referenceEps;
  return [{ name: 'pgd', eps, steps: budget.pgdSteps, restarts: 1 }];
}

/** True when the budget runs the eps sweep apart from the claims' evaluations. */
export function sweepApart(budget: StudyBudget): boolean {
  return budget.sweepSeeds !== undefined;
}

/**
 * The evaluation settings of `dataset`: `claims` (every seed; the whole sweep when the budget does
 * not run it apart) or `sweep` (the sweep jobs of budgets with `sweepSeeds`).
 */
export function studyConfig(
  settings: PlanSettings,
  dataset: StudyDataset,
  part: 'claims' | 'sweep' = 'claims',
): EvalConfig {
  const { budget } = settings;
  const d = budget.perDataset[dataset];
  const apart = sweepApart(budget);
  const testSize =
    part === 'sweep' ? Math.min(d.sweepTestSize ?? d.testSize, d.testSize) : d.testSize;
  const attacks =
    apart && part === 'claims' ? referenceAttacks(budget, dataset) : studyAttacks(budget, dataset);
  const dataDir = settings.dataDirs[dataset];
  return evalConfigSchema.parse({
    dataset,
    ...(dataDir !== undefined ? { dataDir } : {}),
    channels: budget.channels,
    layers: budget.layers,
    epochs: d.epochs,
    batchSize: budget.batchSize,
    learningRate: budget.learningRate,
    trainSize: d.trainSize,
    // The study scores the test split; the validation split is unused (the schema wants one image).
    valSize: 1,
    testSize,
    split: 'test',
    dataSeed: 0,
    attacks,
  });
}

function shapeOf(dataset: StudyDataset): {
  inputShape: [number, number, number];
  numClasses: number;
} {
  const spec = datasetSpec(dataset);
  return { inputShape: [...spec.shape] as [number, number, number], numClasses: spec.numClasses };
}

/** Parameters of a network of the study on `dataset`. */
export function paramsOf(
  spec: ArchitectureSpec,
  budget: StudyBudget,
  dataset: StudyDataset,
): number {
  return complexityOf(spec, {
    channels: budget.channels,
    layers: budget.layers,
    ...shapeOf(dataset),
  }).params;
}

/** Multiply-adds of one forward pass of a network of the study on `dataset`. */
export function macsOf(spec: ArchitectureSpec, budget: StudyBudget, dataset: StudyDataset): number {
  return complexityOf(spec, {
    channels: budget.channels,
    layers: budget.layers,
    ...shapeOf(dataset),
  }).macs;
}

/** The width multiplier (a multiple of 1/256) whose parameter count is closest to `target`. */
export function matchedWidth(
  arch: BaselineArch,
  target: number,
  budget: StudyBudget,
  dataset: StudyDataset,
): number {
  let best = { width: 1, gap: Infinity };
  for (let k = 1; k <= 256; k++) {
    const width = k / 256;
    const gap = Math.abs(Math.log(paramsOf({ arch, width }, budget, dataset) / target));
    if (gap < best.gap) best = { width, gap };
  }
  return best.width;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The networks of the study on one data set, in report order. */
export function architectures(budget: StudyBudget, dataset: StudyDataset): PlannedArchitecture[] {
  const nas: PlannedArchitecture[] = budget.nasCells.map((name) => ({
    name,
    family: 'nas',
    spec: { genotype: getPublishedGenotype(name) },
  }));
  const target = median(nas.map((a) => paramsOf(a.spec as ArchitectureSpec, budget, dataset)));
  const handcrafted: PlannedArchitecture[] = budget.baselines.map((arch) => ({
    name: arch,
    family: 'handcrafted',
    spec: { arch, width: matchedWidth(arch, target, budget, dataset) },
  }));
  const random: PlannedArchitecture[] = randomGenotypes(budget.randomGenotypes).map((g, i) => ({
    name: `random-${i + 1}`,
    family: 'random',
    spec: { genotype: g },
  }));
  const ensembles: PlannedArchitecture[] = budget.ensembleSizes.map((k) => ({
    name: `ensemble-${k}`,
    family: 'ensemble',
    members: random.slice(0, k).map((r) => r.name),
  }));
  return [...nas, ...handcrafted, ...random, ...ensembles];
}

export function jobId(dataset: string, architecture: string, seed: number): string {
  return `${dataset}/${architecture}/seed${seed}`;
}

/**
 * Every evaluation of the study, seed by seed (so a study stopped early has complete seeds), data
 * set by data set; an ensemble comes after the members it reuses.
 */
export function planJobs(settings: PlanSettings): StudyJob[] {
  const { budget } = settings;
  const usedByEnsembles = new Set(
    budget.ensembleSizes.flatMap((k) => Array.from({ length: k }, (_, i) => `random-${i + 1}`)),
  );
  const apart = sweepApart(budget);
  const sweepSeeds = Math.min(settings.seeds, budget.sweepSeeds ?? 0);
  const perDataset = settings.datasets.map((dataset) => ({
    dataset,
    archs: architectures(budget, dataset),
    config: studyConfig(settings, dataset),
    sweepConfig: studyConfig(settings, dataset, 'sweep'),
  }));
  const jobs: StudyJob[] = [];
  for (let seed = 1; seed <= settings.seeds; seed++) {
    const sweep = apart && seed <= sweepSeeds;
    for (const { dataset, archs, config, sweepConfig } of perDataset) {
      const sweeps: StudyJob[] = [];
      for (const a of archs) {
        const base = {
          id: jobId(dataset, a.name, seed),
          dataset,
          architecture: a.name,
          family: a.family,
          seed,
          config,
        };
        const trained = a.members ? a.members.map((m) => jobId(dataset, m, seed)) : [base.id];
        jobs.push(
          a.members
            ? { ...base, kind: 'ensemble', memberJobs: trained, keepWeights: false }
            : {
                ...base,
                kind: 'train',
                spec: a.spec as ArchitectureSpec,
                keepWeights: usedByEnsembles.has(a.name) || sweep,
              },
        );
        if (sweep) {
          sweeps.push({
            ...base,
            id: sweepJobId(base.id),
            kind: 'sweep',
            memberJobs: trained,
            keepWeights: false,
            config: sweepConfig,
          });
        }
      }
      jobs.push(...sweeps);
    }
  }
  return jobs;
}

/** The id of the eps-sweep job of the evaluation `id`. */
export function sweepJobId(id: string): string {
  return `${id}/sweep`;
}
