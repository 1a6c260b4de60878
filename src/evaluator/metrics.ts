/**
 * Accuracy with its standard error, counted batch by batch in inference mode, and the robustness
 * curve (accuracy against eps) with its mean. HRS is `harmonicRobustnessScore` in
 * src/core/evaluation.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AccuracyEstimate } from '../core/evaluation.js';
import type { Classifier } from './attacks/types.js';

/** Accuracy `correct / n` with standard error sqrt(p(1-p)/n); n = 0 gives accuracy 0, stderr 0. */
export function accuracyEstimate(correct: number, n: number): AccuracyEstimate {
  if (!Number.isInteger(correct) || !Number.isInteger(n) || correct < 0 || correct > n) {
    throw new RangeError(`accuracyEstimate: ${correct} correct of ${n}`);
  }
  if (n === 0) return { accuracy: 0, stderr: 0, n: 0 };
  const p = correct / n;
  return { accuracy: p, stderr: Math.sqrt((p * (1 - p)) / n), n };
}

/** How many of `x` the model classifies as `y` (inference mode). */
export function countCorrect(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): number {
  return tf.tidy(() => {
    const pred = tf.argMax(model.apply(x, { training: false }).logits, 1);
    return tf.sum(tf.cast(tf.equal(pred, tf.cast(y, 'int32')), 'int32')).dataSync()[0] as number;
  });
}

/**
 * Images classified correctly both clean and under attack, as RobustBench counts robust accuracy:
 * an image the network gets wrong clean is never robust, even when the attack happens to push it
 * into the right class. So robust accuracy never exceeds clean accuracy.
 */
export function countRobust(
  model: Classifier,
  x: tf.Tensor4D,
  adversarial: tf.Tensor4D,
  y: tf.Tensor1D,
): number {
  return tf.tidy(() => {
    const labels = tf.cast(y, 'int32');
    const clean = tf.equal(tf.argMax(model.apply(x, { training: false }).logits, 1), labels);
    const attacked = tf.equal(
      tf.argMax(model.apply(adversarial, { training: false }).logits, 1),
      labels,
    );
    return tf.sum(tf.cast(tf.logicalAnd(clean, attacked), 'int32')).dataSync()[0] as number;
  });
}

export interface CurvePoint {
  readonly eps: number;
  readonly accuracy: number;
}

/** The curve sorted by eps, and the mean accuracy over its points (0 for an empty curve). */
export function robustnessCurve(points: readonly CurvePoint[]): {
  curve: CurvePoint[];
  mean: number;
} {
  const curve = [...points].sort((a, b) => a.eps - b.eps);
  const mean = curve.length ? curve.reduce((s, p) => s + p.accuracy, 0) / curve.length : 0;
  return { curve, mean };
}
