/**
 * The gradient of a loss with respect to the input images (for attacks), with the model in
 * inference mode (running BN statistics, no drop-path) unless `training` is set (as adversarial
 * training's inner attack may want). The default loss is the mean cross-entropy against `labels`.
 * Returns the gradient and the logits of that forward pass; the caller disposes both.
 */
import * as tf from '@tensorflow/tfjs-core';
import './register-gradients.js';
import { crossEntropy } from './softmax-cross-entropy.js';
import type { Model } from './model.js';

/** What the input gradient needs of a network (a Model, an ensemble, or a test classifier). */
export type GradientModel = Pick<Model, 'apply'> & Partial<Pick<Model, 'discardBatchStatistics'>>;

export interface InputGradientOptions {
  /** Scalar loss from the logits (default: mean cross-entropy against the labels). */
  loss?: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;
  /** Training-mode forward (batch BN statistics, discarded afterwards). Default false. */
  training?: boolean;
}

export interface InputGradient {
  gradient: tf.Tensor4D;
  logits: tf.Tensor2D;
}

export function inputGradient(
  model: GradientModel,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  options: InputGradientOptions = {},
): InputGradient {
  const lossFn = options.loss ?? crossEntropy;
  const training = options.training ?? false;
  let logits: tf.Tensor2D | undefined;
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor4D) => {
    const out = model.apply(x, { training, auxiliary: false });
    logits = tf.keep(out.logits);
    return lossFn(out.logits, labels);
  })(images);
  value.dispose();
  if (training) model.discardBatchStatistics?.();
  return { gradient: grad as tf.Tensor4D, logits: logits as tf.Tensor2D };
}
