/** Layers applied one after the other; the output shape is the last layer's. */
import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext, Layer, Shape } from './layer.js';

export class Sequential implements Layer {
  readonly outShape: Shape;
  private readonly layers: Layer[] = [];

  constructor(inShape: Shape) {
    this.outShape = inShape;
  }

  /** Appends the layer made by `make` from the current output shape. */
  add(make: (inShape: Shape) => Layer): this {
    const layer = make(this.outShape);
    this.layers.push(layer);
    (this as { outShape: Shape }).outShape = layer.outShape;
    return this;
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    let y = x;
    for (const layer of this.layers) y = layer.apply(y, ctx);
    return y;
  }
}
