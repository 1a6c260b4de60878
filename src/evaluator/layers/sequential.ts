/**
 * Layers applied one after the other; the output shape is the last layer's. In inference mode a
 * conv followed by a BatchNorm runs as one conv with the BN folded into its filter.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
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
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i] as Layer;
      const next = this.layers[i + 1];
      if (!ctx.training && next instanceof BatchNorm && layer instanceof Conv2d && layer.foldable) {
        // Inference: the BatchNorm folds into the conv's filter (see batch-norm.ts).
        const { scale, shift } = next.inferenceAffine();
        y = layer.applyScaled(y, scale, shift, ctx);
        i++;
      } else {
        y = layer.apply(y, ctx);
      }
    }
    return y;
  }
}
