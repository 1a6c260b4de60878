/**
 * A tiny hand-written classifier (flatten -> dense -> ReLU -> dense) that satisfies the Model
 * contract, for testing attacks, metrics and the training loop without a DARTS network.
 */
import * as tf from '@tensorflow/tfjs-core';
import '../../src/evaluator/register-gradients.js';

export interface TinyModel {
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  apply(
    x: tf.Tensor4D,
    options: { training: boolean; dropPathProb?: number },
  ): { logits: tf.Tensor2D; auxLogits?: tf.Tensor2D };
  readonly trainableVariables: readonly tf.Variable[];
  readonly stateVariables: readonly tf.Variable[];
  commitBatchStatistics(): void;
  readonly params: number;
  readonly macs: number;
  dispose(): void;
}

export function createTinyModel(
  inputShape: readonly [number, number, number],
  numClasses: number,
  seed: number,
  hidden = 32,
): TinyModel {
  const features = inputShape[0] * inputShape[1] * inputShape[2];
  const owned = (init: tf.Tensor): tf.Variable => {
    const v = tf.variable(init);
    init.dispose();
    return v;
  };
  const w1 = owned(
    tf.randomNormal([features, hidden], 0, Math.sqrt(2 / features), 'float32', seed),
  );
  const b1 = owned(tf.zeros([hidden]));
  const w2 = owned(
    tf.randomNormal([hidden, numClasses], 0, Math.sqrt(1 / hidden), 'float32', seed + 1),
  );
  const b2 = owned(tf.zeros([numClasses]));
  const vars = [w1, b1, w2, b2];
  return {
    inputShape,
    numClasses,
    apply(x) {
      return {
        logits: tf.tidy(() => {
          const flat = tf.reshape(x, [x.shape[0], features]);
          const h = tf.relu(tf.add(tf.matMul(flat, w1), b1));
          return tf.add(tf.matMul(h, w2), b2) as tf.Tensor2D;
        }),
      };
    },
    trainableVariables: vars,
    stateVariables: [],
    commitBatchStatistics() {},
    params: features * hidden + hidden + hidden * numClasses + numClasses,
    macs: features * hidden + hidden * numClasses,
    dispose() {
      tf.dispose(vars);
    },
  };
}
