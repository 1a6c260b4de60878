/**
 * The shape every attack shares: (model, clean images in [0, 1], labels, spec, rng) -> adversarial
 * images, within `spec.eps` (L-infinity) of the clean ones and inside [0, 1]. Attacks run the model in
 * inference mode (BatchNorm running statistics, no drop-path, no auxiliary head) and are synchronous
 * per batch; the caller owns (and disposes) the returned tensor. All randomness comes from `rng`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';

/** What an attack needs of a network: the part of the Model contract (src/evaluator/model.ts) it uses. */
export interface Classifier {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  apply(
    x: tf.Tensor4D,
    options: { training: boolean; dropPathProb?: number },
  ): { logits: tf.Tensor2D; auxLogits?: tf.Tensor2D };
}

export type Attack = (
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  spec: AttackSpec,
  rng: Rng,
) => tf.Tensor4D;
