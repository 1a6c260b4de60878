/**
 * Gradient of a per-image loss with respect to the input images, the model in inference mode. Also
 * returns the logits and per-image losses of the same forward pass (APGD needs both), so an attack
 * step costs one forward and one backward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inputGradient as modelInputGradient } from '../input-gradient.js';
import { crossEntropyPerImage } from '../softmax-cross-entropy.js';
import type { Classifier } from './types.js';

export interface LossAndGradient {
  /** d(sum of losses)/dx, same shape as x. */
  readonly grad: tf.Tensor4D;
  readonly logits: tf.Tensor2D;
  /** One loss per image. */
  readonly loss: tf.Tensor1D;
}

/** A loss per image from the logits and the labels (APGD-T's DLR-targeted loss, say). */
export type PerImageLoss = (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Tensor1D;

/**
 * Loss = `perImageLoss` (default: cross-entropy against `labels`, the attacks' loss; Step-LL passes
 * the least likely class), summed over the images; one forward and one backward pass through the
 * model's {@link modelInputGradient}, with the per-image losses kept for APGD.
 */
export function lossAndGradient(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  perImageLoss: PerImageLoss = crossEntropyPerImage,
): LossAndGradient {
  let loss: tf.Tensor1D | undefined;
  const { gradient, logits } = modelInputGradient(model, x, labels, {
    loss: (out, y) => {
      const perImage = perImageLoss(out, y);
      loss = tf.keep(perImage);
      return tf.sum(perImage);
    },
  });
  return { grad: gradient, logits, loss: loss as tf.Tensor1D };
}

/** Just the gradient (disposes the rest). */
export function inputGradient(model: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor4D {
  const r = lossAndGradient(model, x, labels);
  r.logits.dispose();
  r.loss.dispose();
  return r.grad;
}

/** Projects `adv` into the eps-ball around `x` and into [0, 1]. */
export function projectLinf(adv: tf.Tensor4D, x: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf.clipByValue(
        tf.minimum(tf.maximum(adv, tf.sub(x, eps)), tf.add(x, eps)),
        0,
        1,
      ) as tf.Tensor4D,
  );
}

/** Predicted classes in inference mode. */
export function predict(model: Classifier, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(model.apply(x, { training: false }).logits, 1) as tf.Tensor1D);
}

/** Uniform noise in [-eps, eps] with a seed drawn from the caller's Rng. */
export function uniformNoise(shape: readonly number[], eps: number, seed: number): tf.Tensor {
  return tf.randomUniform([...shape], -eps, eps, 'float32', seed);
}

/**
 * Per image: keep `best` where it already fools the model, else take `candidate`
 * (restarts keep the first adversarial example found).
 */
export function keepFooled(
  model: Classifier,
  y: tf.Tensor1D,
  best: tf.Tensor4D,
  candidate: tf.Tensor4D,
): tf.Tensor4D {
  return tf.tidy(() => {
    const fooled = tf.notEqual(predict(model, best), tf.cast(y, 'int32'));
    return tf.where(tf.broadcastTo(tf.reshape(fooled, [-1, 1, 1, 1]), best.shape), best, candidate);
  });
}
