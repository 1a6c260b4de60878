/** DARTS's Identity (skip_connect at stride 1). */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer, Shape } from './layer.js';

export class Identity implements Layer {
  constructor(readonly outShape: Shape) {}

  apply(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }
}
