/**
 * PGD (Madry et al. 2018), torchattacks semantics: uniform random start in the eps-ball (clamped to
 * [0, 1]), then `steps` steps of size alpha along the gradient sign, each projected to the eps-ball and
 * [0, 1]. alpha defaults to eps/4 (2/255 for 8/255). With restarts, an image keeps the first
 * adversarial example found.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { inputGradient, keepFooled, projectLinf, uniformNoise } from './gradient.js';
import type { Attack, Classifier } from './types.js';

function pgdRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  spec: AttackSpec,
  rng: Rng,
): tf.Tensor4D {
  const alpha = spec.alpha ?? spec.eps / 4;
  const seed = rng.seed32();
  let adv = tf.tidy(() =>
    projectLinf(tf.add(x, uniformNoise(x.shape, spec.eps, seed)), x, spec.eps),
  );
  for (let i = 0; i < spec.steps; i++) {
    const next = pgdStep(model, adv, x, y, alpha, spec.eps);
    adv.dispose();
    adv = next;
  }
  return adv;
}

/**
 * One PGD step: alpha along the sign of the loss gradient, then projection to the eps-ball around
 * `x` and to [0, 1]. (Also what `npm run bench` times as a PGD step.)
 */
export function pgdStep(
  model: Classifier,
  adv: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  alpha: number,
  eps: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const grad = inputGradient(model, adv, y);
    return projectLinf(tf.add(adv, tf.mul(tf.sign(grad), alpha)), x, eps);
  });
}

export const pgd: Attack = (model, x, y, spec, rng) => {
  let best = pgdRun(model, x, y, spec, rng);
  for (let r = 1; r < spec.restarts; r++) {
    const candidate = pgdRun(model, x, y, spec, rng);
    const merged = keepFooled(model, y, best, candidate);
    best.dispose();
    candidate.dispose();
    best = merged;
  }
  return best;
};
