/**
 * The targeted Difference of Logits Ratio loss of APGD-T (Croce & Hein 2020, eq. 7), as auto-attack's
 * `autoattack/autopgd_base.py` `APGDAttack_targeted.dlr_loss_targeted`:
 *   -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12)
 * with z_pi1 >= z_pi2 >= ... the sorted logits, y the true class and t the target. Maximising it
 * raises the target's logit above the true class's; the denominator makes it invariant to the
 * logits' scale (so saturated softmax outputs do not hide a gradient).
 */
import * as tf from '@tensorflow/tfjs-core';

/** The scalar loss for one row of logits (for tests and hand checks). */
export function dlrTargetedValue(logits: readonly number[], y: number, target: number): number {
  const sorted = [...logits].sort((a, b) => b - a);
  const [z1, , z3, z4] = sorted as [number, number, number, number];
  return -((logits[y] as number) - (logits[target] as number)) / (z1 - 0.5 * (z3 + z4) + 1e-12);
}

/**
 * Per image, differentiable with respect to `logits` (the sort's positions are read as plain data,
 * so the gradient flows to the logits it picks, as torch.sort's does). Needs at least 4 classes.
 */
export function dlrTargetedLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: tf.Tensor1D,
): tf.Tensor1D {
  const classes = logits.shape[1];
  if (classes < 4) {
    throw new RangeError(
      `the DLR-targeted loss needs at least 4 classes (it uses the 4th largest logit); got ${classes}`,
    );
  }
  // The positions of the 4 largest logits, read off the tape: TopK has no gradient in tfjs, and
  // the loss's gradient is the one through the selected logits.
  const order = tf.tidy(() => tf.topk(logits, 4, true).indices);
  const rank = order.arraySync() as number[][];
  order.dispose();
  return tf.tidy(() => {
    const pick = (column: number) =>
      tf.tensor1d(
        rank.map((r) => r[column] as number),
        'int32',
      );
    const at = (cls: tf.Tensor1D) =>
      tf.sum(tf.mul(logits, tf.oneHot(tf.cast(cls, 'int32'), classes)), 1);
    const numerator = tf.sub(at(labels), at(targets));
    const denominator = tf.add(
      tf.sub(at(pick(0)), tf.mul(0.5, tf.add(at(pick(2)), at(pick(3))))),
      1e-12,
    );
    return tf.neg(tf.div(numerator, denominator)) as tf.Tensor1D;
  });
}
