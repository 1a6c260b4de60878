/**
 * Step-LL (Kurakin et al. 2017): one step of size eps *down* the gradient of the cross-entropy toward
 * the class the model finds least likely on the clean image. Single-step: `steps` and `alpha` are ignored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inputGradient, projectLinf } from './gradient.js';
import type { Attack } from './types.js';

export const stepll: Attack = (model, x, _y, spec) =>
  tf.tidy(() => {
    const leastLikely = tf.argMin(model.apply(x, { training: false }).logits, 1) as tf.Tensor1D;
    const grad = inputGradient(model, x, leastLikely);
    return projectLinf(tf.sub(x, tf.mul(tf.sign(grad), spec.eps)), x, spec.eps);
  });
