/**
 * DARTS's FactorizedReduce: ReLU, then two stride-2 1x1 convs (C_out/2 channels each), one on x and
 * one on x shifted by one pixel (x[:, :, 1:, 1:]), concatenated, then BatchNorm. Halves H and W.
 *
 * Odd sizes: in PyTorch the two halves disagree when H or W is odd (ceil(H/2) vs floor(H/2)) and
 * the concatenation fails. Here the shifted input gets one zero row/column at its far edge, so
 * both halves have ceil(H/2) x ceil(W/2), the size every other stride-2 op in a cell produces;
 * for even sizes this is exactly PyTorch's computation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import type { ForwardContext, Layer, Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { rectify } from './relu.js';

export class FactorizedReduce implements Layer {
  readonly outShape: Shape;
  private readonly conv1: Conv2d;
  private readonly conv2: Conv2d;
  private readonly bn: BatchNorm;
  private readonly oddH: number;
  private readonly oddW: number;

  constructor(store: ParameterStore, name: string, inShape: Shape, outChannels: number) {
    if (outChannels % 2 !== 0) {
      throw new RangeError(`FactorizedReduce needs an even channel count, got ${outChannels}`);
    }
    const [h, w] = inShape;
    this.oddH = h % 2;
    this.oddW = w % 2;
    const half = outChannels / 2;
    [this.conv1, this.conv2, this.bn] = store.scoped(name, () => {
      const c1 = new Conv2d(store, 'conv_1', inShape, { outChannels: half, kernel: 1, stride: 2 });
      const shifted: Shape = [h - 1 + this.oddH, w - 1 + this.oddW, inShape[2]];
      const c2 = new Conv2d(store, 'conv_2', shifted, { outChannels: half, kernel: 1, stride: 2 });
      const bn = new BatchNorm(store, 'bn', [c1.outShape[0], c1.outShape[1], outChannels]);
      return [c1, c2, bn] as const;
    });
    this.outShape = this.bn.outShape;
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const r = rectify(x, ctx);
    const [b, h, w, c] = r.shape;
    let shifted: tf.Tensor4D = tf.slice(r, [0, 1, 1, 0], [b, h - 1, w - 1, c]);
    if (this.oddH || this.oddW) {
      shifted = tf.pad(shifted, [
        [0, 0],
        [0, this.oddH],
        [0, this.oddW],
        [0, 0],
      ]);
    }
    if (!ctx.training) {
      // Inference: the BatchNorm folds into the two convs' filters (see batch-norm.ts).
      const { scale, shift } = this.bn.inferenceAffine();
      const [s1, s2] = tf.split(scale, 2) as [tf.Tensor1D, tf.Tensor1D];
      const [b1, b2] = tf.split(shift, 2) as [tf.Tensor1D, tf.Tensor1D];
      return tf.concat(
        [this.conv1.applyScaled(r, s1, b1), this.conv2.applyScaled(shifted, s2, b2)],
        3,
      );
    }
    const y = tf.concat([this.conv1.apply(r), this.conv2.apply(shifted)], 3);
    return this.bn.apply(y, ctx);
  }
}
