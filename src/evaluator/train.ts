/**
 * The training loop: epochs of shuffled mini-batches, SGD with momentum (nesterov optional) and weight
 * decay, gradient-norm clipping, a cosine learning-rate schedule (per step, from the initial rate to 0),
 * optional cutout, a drop-path probability growing linearly from 0 to `dropPath` (as DARTS), an
 * optional auxiliary head, and optional "fast" FGSM adversarial training with a random start (Wong,
 * Rice & Kolter 2020: delta ~ U(-eps, eps), one step of 1.25 eps along the gradient sign, clipped to
 * the eps-ball and [0, 1]). Deterministic for an Rng seed on a given backend.
 *
 * A loss that becomes NaN or infinite stops training with an EvaluationFailure naming the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { EvaluationFailure, type EvalConfig } from '../core/evaluation.js';
import type { Rng } from '../core/rng.js';
import type { ImageSet } from './datasets/image-set.js';
import { gatherBatch } from './datasets/tensors.js';
import { inputGradient } from './input-gradient.js';
import type { Model } from './model.js';
import { Sgd } from './sgd.js';
import { trainStep } from './train-step.js';

export type TrainOptions = Pick<
  EvalConfig,
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'momentum'
  | 'nesterov'
  | 'weightDecay'
  | 'gradClip'
  | 'cutout'
  | 'dropPath'
  | 'auxiliaryWeight'
  | 'adversarialTraining'
> & {
  /** Budget of fast-FGSM adversarial training (pixel units); required when it is on. */
  readonly adversarialTrainingEps?: number;
};

export interface TrainResult {
  readonly steps: number;
  /** Mean training loss over the last epoch's steps (NaN when there were none). */
  readonly lastEpochLoss: number;
  readonly losses: readonly number[];
}

/** Cosine learning rate at step t of T (t = 0 gives lr0, t = T gives 0). */
export function cosineLearningRate(lr0: number, t: number, total: number): number {
  if (total <= 0) return lr0;
  return 0.5 * lr0 * (1 + Math.cos((Math.PI * t) / total));
}

/** Batches per epoch and total optimisation steps for possibly fractional `epochs`. */
export function trainingSchedule(
  images: number,
  batchSize: number,
  epochs: number,
): { perEpoch: number; total: number } {
  const perEpoch = Math.max(1, Math.ceil(images / batchSize));
  return { perEpoch, total: Math.round(epochs * perEpoch) };
}

/**
 * Cutout (DeVries & Taylor 2017, as in DARTS): per image, a `length` x `length` square at a uniformly
 * random centre (clipped at the borders) set to 0. Returns a new tensor.
 */
export function applyCutout(x: tf.Tensor4D, length: number, rng: Rng): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const mask = new Float32Array(n * h * w).fill(1);
  for (let i = 0; i < n; i++) {
    const cy = rng.int(h);
    const cx = rng.int(w);
    const y0 = Math.max(0, cy - Math.floor(length / 2));
    const y1 = Math.min(h, cy + Math.floor(length / 2));
    const x0 = Math.max(0, cx - Math.floor(length / 2));
    const x1 = Math.min(w, cx + Math.floor(length / 2));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) mask[i * h * w + yy * w + xx] = 0;
    }
  }
  return tf.tidy(() => tf.mul(x, tf.tensor4d(mask, [n, h, w, 1])) as tf.Tensor4D);
}

/** Fast-FGSM training examples (Wong et al. 2020), computed in training mode (BN stats discarded). */
export function fastFgsmExamples(
  model: Model,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: number,
  seed: number,
): tf.Tensor4D {
  const alpha = 1.25 * eps;
  return tf.tidy(() => {
    const delta0 = tf.randomUniform(x.shape, -eps, eps, 'float32', seed);
    const start = tf.clipByValue(tf.add(x, delta0), 0, 1) as tf.Tensor4D;
    const { gradient, logits } = inputGradient(model, start, y, { training: true });
    logits.dispose();
    const delta = tf.clipByValue(
      tf.add(tf.sub(start, x), tf.mul(tf.sign(gradient), alpha)),
      -eps,
      eps,
    );
    return tf.clipByValue(tf.add(x, delta), 0, 1) as tf.Tensor4D;
  });
}

const nextTick = (): Promise<void> => new Promise((ok) => setImmediate(ok));

export async function trainModel(
  model: Model,
  data: ImageSet,
  options: TrainOptions,
  rng: Rng,
  onProgress?: (done: number, total: number) => void,
): Promise<TrainResult> {
  const { perEpoch, total } = trainingSchedule(data.count, options.batchSize, options.epochs);
  const adversarial = options.adversarialTraining === 'fast-fgsm';
  const advEps = options.adversarialTrainingEps ?? 0;
  if (adversarial && !(advEps > 0)) {
    throw new RangeError('fast-fgsm adversarial training needs adversarialTrainingEps > 0');
  }
  const optimizer = new Sgd({
    learningRate: options.learningRate,
    momentum: options.momentum,
    nesterov: options.nesterov && options.momentum > 0,
    weightDecay: options.weightDecay,
  });
  const losses: number[] = [];
  let step = 0;
  let epochLosses: number[] = [];
  try {
    onProgress?.(0, total);
    for (let epoch = 0; step < total; epoch++) {
      const order = rng.shuffle(Array.from({ length: data.count }, (_, i) => i));
      epochLosses = [];
      for (let b = 0; b < perEpoch && step < total; b++) {
        const indices = order.slice(b * options.batchSize, (b + 1) * options.batchSize);
        if (indices.length < 2 && data.count >= 2) continue; // BatchNorm needs 2+ images
        optimizer.learningRate = cosineLearningRate(options.learningRate, step, total);
        const dropPathProb = (options.dropPath * step) / total;
        const batch = gatherBatch(data, indices);
        let x = batch.x;
        let loss: number;
        try {
          if (options.cutout > 0) x = replace(x, applyCutout(x, options.cutout, rng));
          if (adversarial) {
            x = replace(x, fastFgsmExamples(model, x, batch.y, advEps, rng.seed32()));
          }
          loss = trainStep(model, optimizer, x, batch.y, {
            auxiliaryWeight: options.auxiliaryWeight,
            gradClip: options.gradClip,
            dropPathProb,
          });
        } finally {
          tf.dispose([x, batch.y]);
        }
        step++;
        if (!Number.isFinite(loss)) {
          throw new EvaluationFailure(
            `training diverged: loss ${loss} at step ${step} of ${total} (epoch ${epoch + 1})`,
          );
        }
        losses.push(loss);
        epochLosses.push(loss);
        onProgress?.(step, total);
        await nextTick();
      }
    }
  } finally {
    optimizer.dispose();
  }
  const lastEpochLoss = epochLosses.length
    ? epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length
    : Number.NaN;
  return { steps: step, lastEpochLoss, losses };
}

function replace(old: tf.Tensor4D, next: tf.Tensor4D): tf.Tensor4D {
  old.dispose();
  return next;
}
