/**
 * Evaluations: (architecture, config, seed) -> Scores. Loads the data set and its deterministic
 * subsets, builds and trains the network (or each member of an ensemble), then measures clean
 * accuracy and accuracy under every configured attack (and the optional eps sweep) on the scored
 * split, in inference mode. Every tensor is released; a network that cannot be trained (NaN loss,
 * out of memory...) rejects with an EvaluationFailure, never a crash; bad input is an InputError; a
 * backend that crashed (a wasm trap or abort) is a BackendAbortError (backend-abort.ts).
 *
 * Seeds: the evaluation seed drives weight initialisation, batch order, cutout, drop-path and attack
 * randomness; the subsets use `config.dataSeed` (default 0) so all candidates see the same images.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../core/errors.js';
import {
  EvaluationFailure,
  evalConfigSchema,
  harmonicRobustnessScore,
  type AttackScore,
  type AttackSpec,
  type EvalConfig,
  type EvalProgress,
  type Evaluate,
  type EvaluationResult,
  type Scores,
} from '../core/evaluation.js';
import { genotypeTask, type EvaluationTask } from '../core/evaluation-task.js';
import type { Genotype } from '../core/genotype.js';
import { Rng } from '../core/rng.js';
import { buildModel, type ArchitectureSpec, type BaselineArch } from './architecture.js';
import { attackBudget, getAttack } from './attacks/index.js';
import { runAttackSuite } from './attacks/suite.js';
import { currentBackend, initBackend } from './backend.js';
import { kernelVariantLabel } from './wasm-kernels/kernels-module.js';
import { backendAbort, isBackendAbort } from './backend-abort.js';
import { loadDataset, type LoadedDataset } from './datasets/load.js';
import { makeSplits } from './datasets/subsets.js';
import type { ImageSet } from './datasets/image-set.js';
import { sliceBatch } from './datasets/tensors.js';
import { EnsembleModel, type EnsembleCombine } from './ensemble.js';
import { accuracyEstimate, countCorrect, countRobust, robustnessCurve } from './metrics.js';
import type { Model } from './model.js';
import { trainModel, type TrainResult } from './train.js';
import { decodeWeightsInto, encodeWeights, loadWeights } from './weights.js';
import { hasErrnoCode } from './environment-errors.js';
import { formatIssues } from '../core/issues.js';

export type ProgressListener = (p: EvalProgress) => void;

/** Scores plus what a report wants to say about the data and the training. */
export interface EvaluationReport {
  readonly scores: Scores;
  /** The trained network's weights, when the request asked to keep them. */
  readonly weights?: Uint8Array;
  readonly data: {
    readonly dataset: string;
    readonly source: LoadedDataset['source'];
    readonly folder: string;
    readonly notes: readonly string[];
    readonly split: EvalConfig['split'];
    readonly trainImages: number;
    readonly scoredImages: number;
  };
  readonly training: readonly { readonly steps: number; readonly lastEpochLoss: number }[];
}

export interface EvaluationRequest {
  /** One member: a plain network; several: an ensemble. */
  readonly members: readonly ArchitectureSpec[];
  readonly combine?: EnsembleCombine;
  readonly config: EvalConfig;
  readonly seed: number;
  readonly onProgress?: ProgressListener;
  /** Return the trained network's weights as bytes (single networks only, not ensembles). */
  readonly keepWeights?: boolean;
  /**
   * Start from these saved weights instead of training (the config's epochs are not used): one file
   * for one network, or one file per member of an ensemble (members trained separately, say by a
   * study, attacked end to end without training again). A member's weights may also be given as
   * the encoded bytes of such a file (an evaluation task carries them so).
   */
  readonly loadWeightsFrom?: string | readonly (string | Uint8Array)[];
}

/** Images per forward pass when measuring accuracy and attacking. */
export function evalBatchSize(config: EvalConfig): number {
  return Math.max(config.batchSize, 128);
}

const nextTick = (): Promise<void> => new Promise((ok) => setImmediate(ok));

function parseConfig(config: EvalConfig): EvalConfig {
  const r = evalConfigSchema.safeParse(config);
  if (!r.success) {
    throw new InputError(`invalid evaluation config: ${formatIssues(r.error, { max: 1 })}`);
  }
  return r.data;
}

/** The full evaluation (see the file comment). */
export async function runEvaluation(request: EvaluationRequest): Promise<EvaluationReport> {
  const config = parseConfig(request.config);
  if (request.members.length === 0) throw new InputError('nothing to evaluate: no network given');
  if (!Number.isInteger(request.seed) || request.seed < 0) {
    throw new InputError(`seed must be a non-negative integer, got ${request.seed}`);
  }
  if (request.members.length > 1 && request.keepWeights) {
    throw new InputError('saving weights works for one network, not an ensemble');
  }
  const weightFiles =
    request.loadWeightsFrom === undefined
      ? undefined
      : typeof request.loadWeightsFrom === 'string'
        ? [request.loadWeightsFrom]
        : request.loadWeightsFrom;
  if (weightFiles && weightFiles.length !== request.members.length) {
    throw new InputError(
      `${weightFiles.length} weights file(s) for ${request.members.length} network(s): give one per member`,
    );
  }
  const progress = request.onProgress ?? (() => {});
  const started = performance.now();
  const backend = currentBackend() ?? (await initBackend());

  progress({ phase: 'data', done: 0, total: 1 });
  const data = await loadDataset(config.dataset, {
    dataDir: config.dataDir,
    syntheticSizes: { train: config.trainSize + config.valSize, test: config.testSize },
    ...(config.dataChecksum !== undefined ? { expectedChecksum: config.dataChecksum } : {}),
  });
  const splits = makeSplits(data, config, config.dataSeed ?? 0);
  const scored = config.split === 'val' ? splits.val : splits.test;
  progress({ phase: 'data', done: 1, total: 1 });

  const rng = Rng.fromSeed(request.seed);
  const members: Model[] = [];
  const training: TrainResult[] = [];
  let model: Model | undefined;
  try {
    const trainStart = performance.now();
    const { spec } = data;
    for (const [k, arch] of request.members.entries()) {
      const member = buildModel(arch, {
        channels: config.channels,
        layers: config.layers,
        numClasses: spec.numClasses,
        inputShape: [...spec.shape],
        auxiliary: config.auxiliaryWeight > 0,
        seed: rng.seed32(),
        normalization: { mean: [...spec.mean], std: [...spec.std] },
      });
      members.push(member);
      // Drawn whether or not the member trains, so the attacks' randomness is the same either way.
      const trainSeed = rng.seed32();
      const weightFile = weightFiles?.[k];
      if (weightFile !== undefined) {
        if (typeof weightFile === 'string') await loadWeights(member, weightFile);
        else {
          const bytes = Buffer.from(
            weightFile.buffer,
            weightFile.byteOffset,
            weightFile.byteLength,
          );
          decodeWeightsInto(member, bytes, `the weights of member ${k + 1}`);
        }
        training.push({ steps: 0, lastEpochLoss: Number.NaN, losses: [] });
        continue;
      }
      const result = await trainModel(
        member,
        splits.train,
        { ...config, adversarialTrainingEps: config.adversarialTrainingEps ?? spec.defaultEps },
        Rng.fromSeed(trainSeed),
        (done, total) =>
          progress({
            phase: 'train',
            done: k * total + done,
            total: request.members.length * total,
          }),
      );
      training.push(result);
    }
    const trainSeconds = (performance.now() - trainStart) / 1000;
    model = members.length === 1 ? members[0] : new EnsembleModel(members, request.combine);
    const net = model as Model;
    const weights = request.keepWeights
      ? await encodeWeights(net, { architecture: request.members[0], config, seed: request.seed })
      : undefined;

    const attackStart = performance.now();
    const curveSpecs: AttackSpec[] = config.curveEps.map((eps) => ({
      ...(config.attacks[0] as AttackSpec),
      eps,
    }));
    const batches = Math.ceil(scored.count / evalBatchSize(config));
    const totalUnits = (1 + config.attacks.length + curveSpecs.length) * batches;
    let unitsDone = 0;
    const tick = (): void => {
      unitsDone++;
      progress({ phase: 'attack', done: unitsDone, total: totalUnits });
    };
    progress({ phase: 'attack', done: 0, total: totalUnits });
    const cleanCorrect = await countOverBatches(net, scored, config, tick);
    const clean = accuracyEstimate(cleanCorrect, scored.count);
    const adversarial: AttackScore[] = [];
    for (const attack of config.attacks) {
      const correct = await attackOverBatches(net, scored, config, attack, rng.seed32(), tick);
      adversarial.push({
        attack: attack.name,
        eps: attack.eps,
        ...attackBudget(attack),
        ...accuracyEstimate(correct, scored.count),
      });
    }
    const curvePoints = [];
    for (const attack of curveSpecs) {
      const correct = await attackOverBatches(net, scored, config, attack, rng.seed32(), tick);
      curvePoints.push({ eps: attack.eps, accuracy: correct / scored.count });
    }
    const worstCase = config.suite
      ? await worstCaseOverSuite(net, scored, config, rng.seed32(), progress)
      : undefined;
    const attackSeconds = (performance.now() - attackStart) / 1000;
    const curve = curvePoints.length ? robustnessCurve(curvePoints) : undefined;
    const scores: Scores = {
      clean,
      adversarial,
      hrs: harmonicRobustnessScore(clean.accuracy, adversarial[0]?.accuracy ?? 0),
      ...(curve ? { curve: curve.curve, curveMean: curve.mean } : {}),
      ...(worstCase ? { worstCase } : {}),
      params: net.params,
      macs: net.macs,
      seconds: {
        train: trainSeconds,
        attack: attackSeconds,
        total: (performance.now() - started) / 1000,
      },
      backend: backend.name,
      ...(backend.kernels ? { kernels: kernelVariantLabel(backend.kernels) } : {}),
    };
    return {
      scores,
      ...(weights ? { weights } : {}),
      data: {
        dataset: config.dataset,
        source: data.source,
        folder: data.folder,
        notes: data.notes,
        split: config.split,
        trainImages: splits.train.count,
        scoredImages: scored.count,
      },
      training: training.map((t) => ({ steps: t.steps, lastEpochLoss: t.lastEpochLoss })),
    };
  } catch (err) {
    if (err instanceof InputError || err instanceof EvaluationFailure) throw err;
    // A crashed backend is the environment's failure, not the candidate's (backend-abort.ts).
    if (isBackendAbort(err)) throw backendAbort(err);
    if (hasErrnoCode(err)) throw err;
    throw new EvaluationFailure(err instanceof Error ? err.message : String(err));
  } finally {
    release(model, members);
  }
}

/**
 * Frees the network(s). On a crashed backend that fails too: the crash is what to report (the
 * next use of the backend reports it if nothing did yet), not this.
 */
function release(model: Model | undefined, members: readonly Model[]): void {
  try {
    if (model) model.dispose();
    else for (const m of members) m.dispose();
  } catch (err) {
    if (!isBackendAbort(err)) throw err;
  }
}

async function countOverBatches(
  model: Model,
  set: ImageSet,
  config: EvalConfig,
  tick: () => void,
): Promise<number> {
  const size = evalBatchSize(config);
  let correct = 0;
  for (let start = 0; start < set.count; start += size) {
    const { x, y } = sliceBatch(set, start, Math.min(set.count, start + size));
    try {
      correct += countCorrect(model, x, y);
    } finally {
      tf.dispose([x, y]);
    }
    tick();
    await nextTick();
  }
  return correct;
}

/**
 * The worst case per image over the config's first attack and its `suite` at the first attack's eps
 * (attacks/suite.ts: each attack on the images still robust, as AutoAttack counts).
 */
async function worstCaseOverSuite(
  model: Model,
  set: ImageSet,
  config: EvalConfig,
  seed: number,
  progress: (p: EvalProgress) => void,
): Promise<NonNullable<Scores['worstCase']>> {
  const { eps, ...first } = config.attacks[0]!;
  const { x, y } = sliceBatch(set, 0, set.count);
  try {
    const result = await runAttackSuite(model, x, y, eps, Rng.fromSeed(seed), {
      attacks: [first, ...(config.suite ?? [])],
      batchSize: evalBatchSize(config),
      onProgress: (p) =>
        progress({
          phase: 'attack',
          done: p.attackIndex * p.total + p.done,
          total: (config.suite!.length + 1) * p.total,
        }),
    });
    return {
      ...result.robust,
      eps,
      attacks: result.attacks.map((a) => ({
        attack: a.attack,
        robustAfter: a.robustAfter.accuracy,
      })),
      autoAttack: result.autoAttack,
      description: result.description,
    };
  } finally {
    tf.dispose([x, y]);
  }
}

async function attackOverBatches(
  model: Model,
  set: ImageSet,
  config: EvalConfig,
  spec: AttackSpec,
  seed: number,
  tick: () => void,
): Promise<number> {
  const size = evalBatchSize(config);
  const attack = getAttack(spec.name);
  const rng = Rng.fromSeed(seed);
  let correct = 0;
  for (let start = 0; start < set.count; start += size) {
    const { x, y } = sliceBatch(set, start, Math.min(set.count, start + size));
    try {
      const adv = attack(model, x, y, spec, rng);
      try {
        correct += countRobust(model, x, adv, y);
      } finally {
        adv.dispose();
      }
    } finally {
      tf.dispose([x, y]);
    }
    tick();
    await nextTick();
  }
  return correct;
}

/**
 * The one function that executes an evaluation task (src/core/evaluation-task.ts), wherever it was
 * placed: this process, a local worker, a queue worker. An ensemble's members combine by averaging
 * their logits and load the weights the task carries.
 */
export async function runEvaluationTask(
  task: EvaluationTask,
  onProgress?: ProgressListener,
): Promise<EvaluationResult> {
  const report = await runEvaluation({
    members: task.members,
    combine: 'logits',
    config: task.config,
    seed: task.seed,
    ...(onProgress ? { onProgress } : {}),
    ...(task.keepWeights ? { keepWeights: true } : {}),
    ...(task.memberWeights ? { loadWeightsFrom: task.memberWeights } : {}),
  });
  return { scores: report.scores, ...(report.weights ? { weights: report.weights } : {}) };
}

/** The search's evaluation function: a DARTS genotype, trained and attacked. */
export const evaluateGenotype: Evaluate = (genotype, config, seed, onProgress, options) =>
  runEvaluationTask(
    genotypeTask(genotype, config, seed, options?.keepWeights ?? false),
    onProgress,
  );

/** A hand-crafted baseline (resnet18, vgg16, densenet121) at a width multiplier. */
export async function evaluateArchitecture(
  arch: BaselineArch,
  width: number | undefined,
  config: EvalConfig,
  seed: number,
  onProgress?: ProgressListener,
): Promise<Scores> {
  return (await runEvaluation({ members: [{ arch, width }], config, seed, onProgress })).scores;
}

/** Separately trained members (genotypes or baselines) attacked end to end as one averaged model. */
export async function evaluateEnsemble(
  members: readonly (Genotype | ArchitectureSpec)[],
  config: EvalConfig,
  seed: number,
  onProgress?: ProgressListener,
  combine: EnsembleCombine = 'logits',
): Promise<Scores> {
  const specs = members.map((m): ArchitectureSpec => ('normal' in m ? { genotype: m } : m));
  return (await runEvaluation({ members: specs, combine, config, seed, onProgress })).scores;
}
