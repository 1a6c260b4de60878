/** ReLU as a layer (for sequences such as ReLU-Conv-BN). */
import * as tf from '@tensorflow/tfjs-core';
import type { Layer, Shape } from './layer.js';

export class Relu implements Layer {
  constructor(readonly outShape: Shape) {}

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.relu(x);
  }
}
