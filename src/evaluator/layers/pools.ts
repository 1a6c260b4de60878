/**
 * 3x3 pooling with padding 1 at stride 1 or 2, as DARTS's max_pool_3x3 and avg_pool_3x3.
 * Max pooling pads with -infinity (tfjs's explicit padding). Average pooling excludes the padding
 * (PyTorch count_include_pad=False); it is computed as a zero-padded valid average times a
 * constant per-position correction, because tfjs's AvgPoolGrad divides border gradients by the full
 * window size, inconsistent with its own forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { maxPoolKeepingArgmax } from '../wasm-kernels/max-pool-argmax.js';
import { convOutLength, type Layer, type Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';

export class MaxPool implements Layer {
  readonly outShape: Shape;

  constructor(
    inShape: Shape,
    private readonly size: number,
    private readonly stride: number,
    private readonly padding: number,
  ) {
    this.outShape = [
      convOutLength(inShape[0], size, stride, padding),
      convOutLength(inShape[1], size, stride, padding),
      inShape[2],
    ];
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    // On wasm under a gradient tape: the argmax is kept for the backward pass (same values).
    return maxPoolKeepingArgmax(x, this.size, this.stride, this.padding);
  }
}

/** How many in-bounds pixels each output window of one axis covers. */
function windowCounts(length: number, out: number, size: number, stride: number, pad: number) {
  const counts: number[] = [];
  for (let o = 0; o < out; o++) {
    const start = o * stride - pad;
    counts.push(Math.min(start + size, length) - Math.max(start, 0));
  }
  return counts;
}

export class AvgPoolExcludePad implements Layer {
  readonly outShape: Shape;
  private readonly correction?: tf.Tensor4D;

  constructor(
    store: ParameterStore,
    inShape: Shape,
    private readonly size: number,
    private readonly stride: number,
    private readonly padding: number,
  ) {
    const [h, w, c] = inShape;
    const oh = convOutLength(h, size, stride, padding);
    const ow = convOutLength(w, size, stride, padding);
    this.outShape = [oh, ow, c];
    if (padding > 0) {
      const rows = windowCounts(h, oh, size, stride, padding);
      const cols = windowCounts(w, ow, size, stride, padding);
      const values = new Float32Array(oh * ow);
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          values[i * ow + j] = (size * size) / ((rows[i] as number) * (cols[j] as number));
      this.correction = store.constant(() => tf.tensor4d(values, [1, oh, ow, 1]));
    }
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.correction) return tf.avgPool(x, this.size, this.stride, 'valid');
    const p = this.padding;
    const padded = tf.pad(x, [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ]);
    return tf.mul(tf.avgPool(padded, this.size, this.stride, 'valid'), this.correction);
  }
}
