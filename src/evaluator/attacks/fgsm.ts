/** FGSM (Goodfellow et al. 2015): one step of size eps along the sign of the loss gradient. */
import * as tf from '@tensorflow/tfjs-core';
import { inputGradient, projectLinf } from './gradient.js';
import type { Attack } from './types.js';

export const fgsm: Attack = (model, x, y, spec) =>
  tf.tidy(() => {
    const grad = inputGradient(model, x, y);
    return projectLinf(tf.add(x, tf.mul(tf.sign(grad), spec.eps)), x, spec.eps);
  });
