/**
 * The study's budgets, as plain data (issue 14): which networks, data sets, sizes, seeds and attacks
 * each budget runs. `quick` fits a 2-core machine in under 30 minutes on what a fresh clone holds
 * (the bundled MNIST copy and the repository's Fashion-MNIST subset); `standard` and `full` are for
 * a pool of machines (`--queue`). `tiny` is a smoke test (and what the tests run): a few networks on
 * a few images, a minute or so.
 *
 * Per data set: the training images and epochs, the test images scored, the eps sweep of FGSM,
 * R-FGSM, Step-LL and PGD (from almost no effect to almost no robust accuracy), and the reference
 * eps: the one "small-scale" attack at which PGD robust accuracy, HRS and the claims are compared,
 * and at which APGD-CE checks PGD.
 */
import type { DatasetName } from '../core/evaluation.js';

export const BUDGET_NAMES = ['tiny', 'quick', 'standard', 'full'] as const;
export type BudgetName = (typeof BUDGET_NAMES)[number];

export const STUDY_DATASETS = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type StudyDataset = (typeof STUDY_DATASETS)[number] & DatasetName;

/** The order of task complexity the claims use (claim 2): simplest first. */
export const COMPLEXITY_ORDER: readonly StudyDataset[] = ['mnist', 'fashion-mnist', 'cifar10'];

export interface DatasetBudget {
  readonly trainSize: number;
  /**
   * Test images per seed behind the claims (clean and PGD accuracy at the reference eps). When the
   * data folder holds fewer, the study uses what it holds and says so (`testSizeAsked` then keeps
   * this figure in the study's stored budget).
   */
  readonly testSize: number;
  /** Set by the study when the data folder held fewer test images than `testSize` asked. */
  readonly testSizeAsked?: number;
  /**
   * Test images per seed of the eps sweep (FGSM, R-FGSM, Step-LL, PGD at every eps, APGD-CE), when
   * the budget runs the sweep apart (`sweepSeeds`); default `testSize`.
   */
  readonly sweepTestSize?: number;
  readonly epochs: number;
  /** The eps sweep (pixel units) of FGSM, R-FGSM, Step-LL and PGD. */
  readonly eps: readonly number[];
  /** The small-scale eps the claims compare at (one of `eps`); APGD-CE runs here too. */
  readonly referenceEps: number;
  /**
   * When no data folder is named and the user cache lacks the data set, use the subset in the
   * repository's tests/fixtures/datasets (1 000 training, 500 test images) instead of downloading.
   */
  readonly freshCloneSubset?: boolean;
}

export interface StudyBudget {
  readonly description: string;
  /** Data sets run when --datasets is not given. */
  readonly datasets: readonly StudyDataset[];
  readonly seeds: number;
  /**
   * When set, the eps sweep is description only: it runs on the first `sweepSeeds` seeds (on the
   * trained networks' saved weights, `sweepTestSize` images), while every seed runs the claims'
   * attack (PGD at the reference eps) on `testSize` images. Unset: every seed runs the whole sweep
   * on `testSize` images.
   */
  readonly sweepSeeds?: number;
  /** Network size of every DARTS cell network (NAS cells and random genotypes). */
  readonly channels: number;
  readonly layers: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Published cells (names in src/core/published-genotypes.ts). */
  readonly nasCells: readonly string[];
  readonly baselines: readonly ('resnet18' | 'vgg16' | 'densenet121')[];
  /** K random genotypes sampled uniformly from the DARTS space. */
  readonly randomGenotypes: number;
  /** Ensembles of the first k random genotypes, for each k here (each k <= randomGenotypes). */
  readonly ensembleSizes: readonly number[];
  readonly pgdSteps: number;
  readonly apgdSteps: number;
  readonly perDataset: Readonly<Record<StudyDataset, DatasetBudget>>;
}

const MNIST_EPS = [0.01, 0.03, 0.1, 0.3];
const FASHION_EPS = [0.003, 0.01, 0.03, 0.1];
const CIFAR_EPS = [0.5 / 255, 1 / 255, 2 / 255, 4 / 255, 8 / 255];

export const BUDGETS: Readonly<Record<BudgetName, StudyBudget>> = {
  tiny: {
    description: 'smoke test: 1 NAS cell, 1 baseline, 2 random genotypes and their ensemble',
    datasets: ['mnist'],
    seeds: 1,
    sweepSeeds: 1,
    channels: 2,
    layers: 2,
    batchSize: 32,
    learningRate: 0.1,
    nasCells: ['DARTS_V2'],
    baselines: ['resnet18'],
    randomGenotypes: 2,
    ensembleSizes: [2],
    pgdSteps: 2,
    apgdSteps: 2,
    perDataset: {
      mnist: {
        trainSize: 64,
        testSize: 16,
        sweepTestSize: 8,
        epochs: 1,
        eps: [0.05, 0.2],
        referenceEps: 0.05,
      },
      'fashion-mnist': {
        trainSize: 64,
        testSize: 16,
        sweepTestSize: 8,
        epochs: 1,
        eps: [0.02, 0.1],
        referenceEps: 0.02,
        freshCloneSubset: true,
      },
      cifar10: {
        trainSize: 64,
        testSize: 16,
        sweepTestSize: 8,
        epochs: 1,
        eps: [2 / 255, 8 / 255],
        referenceEps: 2 / 255,
        freshCloneSubset: true,
      },
    },
  },
  quick: {
    description:
      'MNIST and Fashion-MNIST, small networks (6 channels, 4 cells), 3 NAS cells, 2 baselines, 3 random genotypes and their ensemble, 4 seeds and 1 000 test images at the reference eps (the eps sweep on 1 seed, 100 images): about 30 minutes on 2 cores',
    datasets: ['mnist', 'fashion-mnist'],
    seeds: 4,
    sweepSeeds: 1,
    channels: 6,
    layers: 4,
    batchSize: 64,
    learningRate: 0.1,
    nasCells: ['DARTS_V2', 'PDARTS', 'PC_DARTS_cifar'],
    baselines: ['resnet18', 'vgg16'],
    randomGenotypes: 3,
    ensembleSizes: [3],
    pgdSteps: 8,
    apgdSteps: 10,
    perDataset: {
      mnist: {
        trainSize: 2000,
        testSize: 1000,
        sweepTestSize: 100,
        epochs: 2,
        eps: MNIST_EPS,
        referenceEps: 0.03,
      },
      'fashion-mnist': {
        trainSize: 950,
        testSize: 1000,
        sweepTestSize: 100,
        epochs: 4,
        eps: FASHION_EPS,
        referenceEps: 0.01,
        freshCloneSubset: true,
      },
      cifar10: {
        trainSize: 950,
        testSize: 1000,
        sweepTestSize: 100,
        epochs: 5,
        eps: CIFAR_EPS,
        referenceEps: 1 / 255,
        freshCloneSubset: true,
      },
    },
  },
  standard: {
    description:
      'all three data sets, 8 channels and 5 cells, 5 seeds (a verdict must hold with each left out), 10 random genotypes: a few machines (--queue)',
    datasets: ['mnist', 'fashion-mnist', 'cifar10'],
    seeds: 5,
    channels: 8,
    layers: 5,
    batchSize: 64,
    learningRate: 0.05,
    nasCells: ['DARTS_V1', 'DARTS_V2', 'PDARTS', 'PC_DARTS_cifar', 'NASNet', 'AmoebaNet', 'ENAS'],
    baselines: ['resnet18', 'vgg16', 'densenet121'],
    randomGenotypes: 10,
    ensembleSizes: [2, 3, 5],
    pgdSteps: 20,
    apgdSteps: 20,
    perDataset: {
      mnist: {
        trainSize: 20_000,
        testSize: 1000,
        epochs: 5,
        eps: [0.01, 0.03, 0.05, 0.1, 0.2, 0.3],
        referenceEps: 0.03,
      },
      'fashion-mnist': {
        trainSize: 20_000,
        testSize: 1000,
        epochs: 5,
        eps: [0.003, 0.01, 0.02, 0.03, 0.05, 0.1],
        referenceEps: 0.01,
      },
      cifar10: {
        trainSize: 20_000,
        testSize: 1000,
        epochs: 10,
        eps: CIFAR_EPS,
        referenceEps: 1 / 255,
      },
    },
  },
  full: {
    description:
      'all three data sets in full, 8 channels and 6 cells (an ensemble of 5 attacked end to end fits the 4 GB wasm heap), 5 seeds, 20 random genotypes: many machines (--queue)',
    datasets: ['mnist', 'fashion-mnist', 'cifar10'],
    seeds: 5,
    channels: 8,
    layers: 6,
    batchSize: 96,
    learningRate: 0.025,
    nasCells: [
      'DARTS_V1',
      'DARTS_V2',
      'PDARTS',
      'PC_DARTS_cifar',
      'PC_DARTS_image',
      'NASNet',
      'AmoebaNet',
      'ENAS',
    ],
    baselines: ['resnet18', 'vgg16', 'densenet121'],
    randomGenotypes: 20,
    ensembleSizes: [2, 3, 5],
    pgdSteps: 20,
    apgdSteps: 50,
    perDataset: {
      mnist: {
        trainSize: 59_000,
        testSize: 10_000,
        epochs: 20,
        eps: [0.01, 0.03, 0.05, 0.1, 0.2, 0.3],
        referenceEps: 0.03,
      },
      'fashion-mnist': {
        trainSize: 59_000,
        testSize: 10_000,
        epochs: 20,
        eps: [0.003, 0.01, 0.02, 0.03, 0.05, 0.1],
        referenceEps: 0.01,
      },
      cifar10: {
        trainSize: 49_000,
        testSize: 10_000,
        epochs: 50,
        eps: CIFAR_EPS,
        referenceEps: 1 / 255,
      },
    },
  },
};
