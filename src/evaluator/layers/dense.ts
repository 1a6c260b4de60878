/** A fully connected layer with bias (PyTorch nn.Linear init) on [batch, features]. */
import * as tf from '@tensorflow/tfjs-core';
import type { ParameterStore } from './parameter-store.js';

export class Dense {
  private readonly weight: tf.Variable;
  private readonly bias: tf.Variable;

  constructor(store: ParameterStore, name: string, inFeatures: number, outFeatures: number) {
    const bound = 1 / Math.sqrt(inFeatures);
    [this.weight, this.bias] = store.scoped(name, () => [
      store.uniform('weight', [inFeatures, outFeatures], bound),
      store.uniform('bias', [outFeatures], bound),
    ]);
    store.addMacs(inFeatures * outFeatures);
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D), this.bias);
  }
}
