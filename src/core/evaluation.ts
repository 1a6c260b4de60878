/**
 * What an evaluation is, as plain serialisable data shared by the search (which schedules
 * evaluations) and the evaluator (which runs them). No tensors here.
 *
 * An evaluation is a pure function (genotype, config, seed) -> Scores, so it can run in this
 * process, in a worker thread, or on another machine.
 */
import { z } from 'zod';
import type { Genotype } from './genotype.js';

/**
 * The data sets: the built-in ones, the generated `synthetic` set, and the user's own images:
 * `folder` (torchvision ImageFolder layout) and `npz` (Keras mnist.npz layout), both read from
 * `dataDir` (src/evaluator/datasets/user-data.ts).
 */
export const DATASETS = [
  'mnist',
  'fashion-mnist',
  'cifar10',
  'synthetic',
  'folder',
  'npz',
] as const;
export type DatasetName = (typeof DATASETS)[number];

/** The data sets read from the user's own files named by `dataDir`. */
export const USER_DATASETS = ['folder', 'npz'] as const;
export type UserDatasetName = (typeof USER_DATASETS)[number];

export function isUserDataset(name: DatasetName): name is UserDatasetName {
  return (USER_DATASETS as readonly string[]).includes(name);
}

export const ATTACKS = [
  'fgsm',
  'rfgsm',
  'stepll',
  'pgd',
  'apgd-ce',
  'apgd-t',
  'fab-t',
  'square',
] as const;
export type AttackName = (typeof ATTACKS)[number];

/**
 * AutoAttack's standard L-infinity settings (Croce & Hein 2020; auto-attack's autoattack.py,
 * `set_version('standard')`): APGD-CE, APGD-T and FAB-T 100 iterations and 1 restart, APGD-T and
 * FAB-T 9 target classes, Square 5000 queries, 1 restart.
 */
export const AUTOATTACK_STANDARD = {
  apgdIterations: 100,
  targets: 9,
  squareQueries: 5000,
  restarts: 1,
} as const;

/** Iterations when `steps` is not given: AutoAttack's 100 for APGD-T and FAB-T, else 10. */
export function defaultSteps(name: AttackName): number {
  return name === 'apgd-t' || name === 'fab-t' ? AUTOATTACK_STANDARD.apgdIterations : 10;
}

/** The attack spec's fields (for command-line options); {@link attackSpecSchema} fills defaults. */
export const attackSpecFields = z.object({
  name: z.enum(ATTACKS),
  /** L-infinity budget in pixel units (inputs in [0, 1]). */
  eps: z.number().min(0).max(1),
  /** Step size; defaults per attack (PGD: eps/4, as torchattacks' 2/255 for 8/255). */
  alpha: z.number().positive().max(1).optional(),
  /**
   * Iterations for iterative attacks (PGD, APGD-CE, APGD-T, FAB-T); at most 1000. Default: 10, but
   * AutoAttack's 100 for APGD-T and FAB-T ({@link defaultSteps}).
   */
  steps: z.number().int().positive().max(1000).optional(),
  /** Random restarts (PGD, APGD-CE, APGD-T and FAB-T per target, Square); at most 20. */
  restarts: z.number().int().positive().max(20).default(1),
  /**
   * APGD-T, FAB-T: how many target classes (the most likely other classes of the clean image, in order);
   * absent: AutoAttack's 9, at most the number of classes minus one.
   */
  targets: z.number().int().positive().max(99).optional(),
  /** Square: queries per restart; absent: AutoAttack's 5000; at most 20000. */
  queries: z.number().int().positive().max(20_000).optional(),
});

/**
 * One attack and its budget. `steps` gets its per-attack default here (absent fields stay absent,
 * so configs written before APGD-T and Square existed parse, and hash, as before).
 */
export const attackSpecSchema = attackSpecFields.transform((s) => ({
  ...s,
  steps: s.steps ?? defaultSteps(s.name),
}));
export type AttackSpec = z.infer<typeof attackSpecSchema>;
export type AttackSpecInput = z.input<typeof attackSpecSchema>;

/** Everything that determines an evaluation besides the genotype and the seed. */
export const evalConfigSchema = z.object({
  dataset: z.enum(DATASETS).default('mnist'),
  /** Data folder; when absent: ROBUST_NAS_DATA, the user cache, then the bundled default. */
  dataDir: z.string().optional(),
  /**
   * The content of the user's own data (`folder`, `npz`): sha256 of its files, filled in when a run
   * is created, so that the run's identity (its config hash, the evaluation cache) covers the data,
   * not only its path, and an evaluation on changed files is refused.
   */
  dataChecksum: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex')
    .optional(),
  channels: z.number().int().min(1).max(512).default(8),
  layers: z.number().int().min(1).max(64).default(5),
  epochs: z.number().min(0).max(1000).default(1),
  batchSize: z.number().int().min(1).max(4096).default(64),
  learningRate: z.number().positive().max(10).default(0.025),
  momentum: z.number().min(0).max(1).default(0.9),
  nesterov: z.boolean().default(false),
  weightDecay: z.number().min(0).max(1).default(3e-4),
  gradClip: z.number().positive().default(5),
  cutout: z.number().int().min(0).max(64).default(0),
  dropPath: z.number().min(0).max(1).default(0),
  auxiliaryWeight: z.number().min(0).max(10).default(0),
  /** 'none' (default, as in the founding study) or 'fast-fgsm' (Wong et al. 2020). */
  adversarialTraining: z.enum(['none', 'fast-fgsm']).default('none'),
  adversarialTrainingEps: z.number().min(0).max(1).optional(),
  /** Image counts, bounded by the largest data set (MNIST: 60000 training, 10000 test images). */
  trainSize: z.number().int().min(1).max(60_000).default(5000),
  valSize: z.number().int().min(1).max(60_000).default(1000),
  testSize: z.number().int().min(1).max(10_000).default(1000),
  /**
   * Seed of the train/val/test subsets (addition by issue 4). Absent: 0, so every candidate of a
   * search is trained and scored on the same images whatever its evaluation seed.
   */
  dataSeed: z.number().int().min(0).optional(),
  /** Which split is scored: a search uses 'val'; final reports use 'test'. */
  split: z.enum(['val', 'test']).default('val'),
  attacks: z
    .array(attackSpecSchema)
    .min(1)
    .max(32)
    .default([{ name: 'pgd', eps: 0.1, steps: 10, restarts: 1 }]),
  /** Optional eps sweep for the robustness curve (attack = first of `attacks`). */
  curveEps: z.array(z.number().min(0).max(1)).max(32).default([]),
  /**
   * A worst-case suite at the first attack's eps (`robust-nas validate --suite strong`): the first
   * attack, then these, each on the images still robust, as AutoAttack counts (an image is robust
   * only if it survives every one). Its figure is Scores.worstCase. Absent: none.
   */
  suite: z
    .array(attackSpecFields.omit({ eps: true }).strict())
    .min(1)
    .max(8)
    .optional(),
});
export type EvalConfig = z.infer<typeof evalConfigSchema>;
export type EvalConfigInput = z.input<typeof evalConfigSchema>;

export interface AccuracyEstimate {
  /** Fraction correct in [0, 1]. */
  readonly accuracy: number;
  /** Standard error of that fraction: sqrt(p(1-p)/n). */
  readonly stderr: number;
  /** Number of images it was measured on. */
  readonly n: number;
}

export interface AttackScore extends AccuracyEstimate {
  readonly attack: AttackName;
  readonly eps: number;
  /** Iterations (PGD, APGD-CE, APGD-T, FAB-T). */
  readonly steps?: number;
  /** Target classes (APGD-T, FAB-T). */
  readonly targets?: number;
  /** Queries per restart (Square). */
  readonly queries?: number;
}

export interface Scores {
  readonly clean: AccuracyEstimate;
  /** One entry per attack and eps in the config's `attacks`, in that order. */
  readonly adversarial: readonly AttackScore[];
  /** Harmonic robustness score 2CR/(C+R) of clean and the first adversarial accuracy (0 when C+R = 0). */
  readonly hrs: number;
  /**
   * The worst case per image over the first attack and the config's `suite` at the first attack's
   * eps, when a suite was given: robust accuracy after each attack in turn, and after all.
   */
  readonly worstCase?: AccuracyEstimate & {
    readonly eps: number;
    readonly attacks: readonly { readonly attack: AttackName; readonly robustAfter: number }[];
    /** True only when APGD-CE, APGD-T, FAB-T and Square all ran at AutoAttack's standard settings. */
    readonly autoAttack: boolean;
    /** Which attacks ran with their budgets. */
    readonly description: string;
  };
  /** Robustness curve (accuracy against eps) and its mean, when `curveEps` was given. */
  readonly curve?: readonly { eps: number; accuracy: number }[];
  readonly curveMean?: number;
  readonly params: number;
  readonly macs: number;
  readonly seconds: { readonly train: number; readonly attack: number; readonly total: number };
  readonly backend: string;
  /**
   * wasm only: the build of robust-nas's kernels that computed these figures ('simd128',
   * 'relaxed-simd-fma', or 'relaxed-simd-nofma', which gives simd128's bits). Figures from
   * 'relaxed-simd-fma' and the other two differ in the last bits of every convolution.
   */
  readonly kernels?: string;
  /** True when these figures come from the surrogate, not from a trained network. */
  readonly surrogate?: boolean;
}

export type EvaluationProgressPhase = 'data' | 'train' | 'attack';

/** Progress of one evaluation, reported by an evaluator while it works. */
export interface EvalProgress {
  readonly phase: EvaluationProgressPhase;
  readonly done: number;
  readonly total: number;
}

/** What a caller may ask of an evaluation besides its scores (never part of the config hash). */
export interface EvaluateOptions {
  /**
   * Return the trained network's weights as bytes (the format `robust-nas evaluate --save-weights`
   * writes). Evaluators that train no network (the surrogate) return none.
   */
  readonly keepWeights?: boolean;
  /**
   * Aborts the evaluation (pause, stop): it then rejects with an AbortError and leaves nothing
   * behind. Evaluators that cannot stop midway may finish first; the caller ignores the result.
   */
  readonly signal?: AbortSignal;
  /**
   * Which evaluation of which run this is (the runner fills it in). Evaluators that hand work to
   * others key it by this, so the same evaluation is never queued twice and a resumed run finds
   * the result of one computed while it was down (the queue's job id is `<runId>.<index>`).
   */
  readonly job?: { readonly runId: string; readonly index: number };
}

/** What an evaluation gives back: its scores and, when asked for, the trained weights. */
export interface EvaluationResult {
  readonly scores: Scores;
  readonly weights?: Uint8Array;
  /**
   * Called by the runner once this outcome is stored in the run: an evaluator that keeps it
   * elsewhere (the queue's finished job in Redis) may drop it then. Never rejects.
   */
  readonly release?: () => Promise<void>;
}

/**
 * The evaluation function: plain data in (genotype, config, seed), scores (and weights) out, so the
 * same job can run in this process, in a worker, or on another machine; it writes no run files.
 * Must be deterministic for (genotype, config, seed) on a given backend, and must not throw for a
 * network that fails to train (it rejects with an EvaluationFailure instead).
 */
export type Evaluate = (
  genotype: Genotype,
  config: EvalConfig,
  seed: number,
  onProgress?: (p: EvalProgress) => void,
  options?: EvaluateOptions,
) => Promise<EvaluationResult>;

/** An evaluation that could not produce scores (NaN loss, out of memory...), with the reason. */
export class EvaluationFailure extends Error {
  override name = 'EvaluationFailure';
  /** As {@link EvaluationResult.release}: called once the failure is stored. */
  release?: () => Promise<void>;
}

/** HRS = 2CR/(C+R), 0 when C+R = 0. */
export function harmonicRobustnessScore(clean: number, robust: number): number {
  return clean + robust === 0 ? 0 : (2 * clean * robust) / (clean + robust);
}
