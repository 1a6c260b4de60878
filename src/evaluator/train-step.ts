/**
 * One training step: training-mode forward (drop-path optional), cross-entropy (+ weight x the
 * auxiliary head's cross-entropy), backward, gradient-norm clipping (total L2 norm over all
 * gradients, as torch.nn.utils.clip_grad_norm_), SGD with momentum and weight decay, and the BN
 * running-statistics update. Returns the loss as a number; leaves no tensor behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import './register-gradients.js';
import { crossEntropy } from './softmax-cross-entropy.js';
import type { Model } from './model.js';
import type { Sgd } from './sgd.js';

export interface TrainStepOptions {
  /** Weight of the auxiliary head's loss (0 or absent: the head is not trained). */
  auxiliaryWeight?: number;
  /** Max total gradient L2 norm (absent or 0: no clipping). */
  gradClip?: number;
  dropPathProb?: number;
}

export function trainStep(
  model: Model,
  optimizer: Sgd,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  options: TrainStepOptions = {},
): number {
  const auxWeight = options.auxiliaryWeight ?? 0;
  const aux = new Set(model.auxiliaryVariables ?? []);
  const variables = model.trainableVariables.filter((v) => auxWeight > 0 || !aux.has(v));
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(images, {
      training: true,
      dropPathProb: options.dropPathProb ?? 0,
      auxiliary: auxWeight > 0,
    });
    const loss = crossEntropy(out.logits, labels);
    if (auxWeight > 0 && out.auxLogits) {
      return tf.add(loss, tf.mul(crossEntropy(out.auxLogits, labels), auxWeight)) as tf.Scalar;
    }
    return loss;
  }, variables as tf.Variable[]);
  try {
    const used = variables.filter((v) => grads[v.name] !== undefined);
    const gradients = used.map((v) => grads[v.name] as tf.Tensor);
    const clip = options.gradClip ?? 0;
    if (clip > 0) {
      const clipped = tf.tidy(() => {
        const total = tf.sqrt(tf.addN(gradients.map((g) => tf.sum(tf.square(g)))));
        const coef = tf.minimum(tf.div(clip, tf.add(total, 1e-6)), 1);
        return gradients.map((g) => tf.mul(g, coef));
      });
      optimizer.step(used, clipped);
      tf.dispose(clipped);
    } else {
      optimizer.step(used, gradients);
    }
    model.commitBatchStatistics();
    return (value.dataSync() as Float32Array)[0] as number;
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
  }
}
