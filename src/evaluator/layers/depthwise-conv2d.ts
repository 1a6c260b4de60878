/**
 * A depthwise 2-D convolution (groups = channels, multiplier 1), PyTorch geometry, NHWC.
 *
 * Dilation 2 with "same" padding (p = k - 1, DARTS's dil_conv). At stride 1, where the backend's
 * depthwise backprop kernels take the dilation themselves (wasm with our kernels), it is one
 * dilated tf.depthwiseConv2d. Elsewhere it is computed from undilated convolutions: the input is
 * split into its 4 phases (space-to-batch), convolved undilated, and interleaved back
 * (batch-to-space), as TensorFlow does for atrous convolution. At stride 2 the taps only touch
 * even positions, so it is always an undilated conv of x[::2, ::2] (taken by reshape and slice):
 * the same multiply-adds, and tfjs's depthwiseConv2d refuses stride and dilation both above 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { depthwiseConv2dBackpropFilterConfig } from '../wasm-kernels/depthwise-conv2d-backprop-filter.js';
import { depthwiseConv2dBackpropInputConfig } from '../wasm-kernels/depthwise-conv2d-backprop-input.js';
import { convOutLength, type Layer, type Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';

export interface DepthwiseConv2dOptions {
  kernel: number;
  stride: number;
  padding: number;
  dilation?: number;
}

export class DepthwiseConv2d implements Layer {
  readonly outShape: Shape;
  private readonly weight: tf.Variable;
  private readonly kernel: number;
  private readonly stride: number;
  private readonly padding: number;
  private readonly dilation: number;
  private readonly inShape: Shape;

  constructor(
    store: ParameterStore,
    name: string,
    inShape: Shape,
    options: DepthwiseConv2dOptions,
  ) {
    const { kernel: k, stride: s, padding: p } = options;
    const d = options.dilation ?? 1;
    if (d !== 1 && !(d === 2 && p === k - 1 && k % 2 === 1)) {
      throw new RangeError(`depthwise conv: dilation ${d} is supported only as 2 with padding k-1`);
    }
    const [h, w, c] = inShape;
    this.inShape = inShape;
    this.kernel = k;
    this.stride = s;
    this.padding = p;
    this.dilation = d;
    this.outShape = [convOutLength(h, k, s, p, d), convOutLength(w, k, s, p, d), c];
    this.weight = store.scoped(name, () => store.uniform('weight', [k, k, c, 1], 1 / k));
    store.addMacs(this.outShape[0] * this.outShape[1] * c * k * k);
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const w = this.weight as tf.Tensor4D;
    if (this.dilation === 1) {
      return tf.depthwiseConv2d(x, w, this.stride, this.padding);
    }
    const half = (this.kernel - 1) / 2;
    if (this.stride === 2) {
      return tf.depthwiseConv2d(evenPositions(x), w, 1, half);
    }
    if (dilatedGradientsOnBackend()) {
      return tf.depthwiseConv2d(x, w, 1, this.padding, 'NHWC', this.dilation);
    }
    const [h, wd] = this.inShape;
    const p = this.padding;
    const extraH = (h + 2 * p) % 2;
    const extraW = (wd + 2 * p) % 2;
    const phases = tf.spaceToBatchND(
      x,
      [2, 2],
      [
        [p, p + extraH],
        [p, p + extraW],
      ],
    );
    const y = tf.depthwiseConv2d(phases, w, 1, 'valid');
    return tf.batchToSpaceND(
      y,
      [2, 2],
      [
        [0, extraH],
        [0, extraW],
      ],
    );
  }
}

function runs(config: KernelConfig, name: string, backend: string): boolean {
  return tf.getKernel(name, backend)?.kernelFunc === config.kernelFunc;
}

/** Whether the current backend runs our depthwise backprop kernels, which honour dilation. */
export function dilatedGradientsOnBackend(): boolean {
  const backend = tf.getBackend();
  return (
    runs(depthwiseConv2dBackpropInputConfig, DepthwiseConv2dNativeBackpropInput, backend) &&
    runs(depthwiseConv2dBackpropFilterConfig, DepthwiseConv2dNativeBackpropFilter, backend)
  );
}

/** x[:, ::2, ::2, :] from pad, reshape and slice (tfjs has no StridedSlice gradient). */
function evenPositions(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const padded =
    h % 2 || w % 2
      ? tf.pad(x, [
          [0, 0],
          [0, h % 2],
          [0, w % 2],
          [0, 0],
        ])
      : x;
  const hh = Math.ceil(h / 2);
  const ww = Math.ceil(w / 2);
  const split = tf.reshape(padded, [b, hh, 2, ww, 2, c]);
  return tf.reshape(tf.slice(split, [0, 0, 0, 0, 0, 0], [b, hh, 1, ww, 1, c]), [b, hh, ww, c]);
}
