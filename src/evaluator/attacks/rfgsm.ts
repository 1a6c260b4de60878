/**
 * R-FGSM (Tramèr et al. 2018): a random step of size alpha along sign(N(0, I)), then one gradient-sign
 * step of size eps - alpha, projected to the eps-ball and [0, 1]. alpha defaults to eps/2 (the paper's
 * choice). Single-step: `steps` is ignored.
 */
import * as tf from '@tensorflow/tfjs-core';
import { inputGradient, projectLinf } from './gradient.js';
import type { Attack } from './types.js';

export const rfgsm: Attack = (model, x, y, spec, rng) => {
  const alpha = Math.min(spec.alpha ?? spec.eps / 2, spec.eps);
  const seed = rng.seed32();
  return tf.tidy(() => {
    const noise = tf.sign(tf.randomNormal(x.shape, 0, 1, 'float32', seed));
    const start = projectLinf(tf.add(x, tf.mul(noise, alpha)), x, spec.eps);
    const grad = inputGradient(model, start, y);
    return projectLinf(tf.add(start, tf.mul(tf.sign(grad), spec.eps - alpha)), x, spec.eps);
  });
};
