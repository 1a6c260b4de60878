/** DARTS's Zero ('none'): zeros of the (strided) input's shape; no parameters, no gradient. */
import * as tf from '@tensorflow/tfjs-core';
import type { Layer, Shape } from './layer.js';

export class Zero implements Layer {
  readonly outShape: Shape;

  constructor(inShape: Shape, stride: number) {
    this.outShape = [Math.ceil(inShape[0] / stride), Math.ceil(inShape[1] / stride), inShape[2]];
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [h, w, c] = this.outShape;
    return tf.zeros([x.shape[0], h, w, c]);
  }
}
