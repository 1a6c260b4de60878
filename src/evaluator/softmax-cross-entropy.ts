/** Softmax cross-entropy of logits [B, K] against integer labels [B]: per image, and its mean. */
import * as tf from '@tensorflow/tfjs-core';

/** Per-image cross-entropy of `logits` against integer `labels`. */
export function crossEntropyPerImage(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1)) as tf.Tensor1D;
  });
}

/** Mean cross-entropy over the batch. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.mean(crossEntropyPerImage(logits, labels)) as tf.Scalar);
}
