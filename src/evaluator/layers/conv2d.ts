/** A dense 2-D convolution (groups = 1), PyTorch geometry (explicit symmetric padding), NHWC. */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dWithBias } from './fused-conv2d.js';
import { convOutLength, type ForwardContext, type Layer, type Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';

export interface Conv2dOptions {
  outChannels: number;
  kernel: number | readonly [number, number];
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  bias?: boolean;
}

type Pad = number | [[number, number], [number, number], [number, number], [number, number]];

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export class Conv2d implements Layer {
  readonly outShape: Shape;
  protected readonly weight: tf.Variable;
  protected readonly bias?: tf.Variable;
  protected readonly strides: [number, number];
  protected readonly pad: Pad;

  constructor(store: ParameterStore, name: string, inShape: Shape, options: Conv2dOptions) {
    const [kh, kw] = pair(options.kernel);
    this.strides = pair(options.stride ?? 1);
    const [ph, pw] = pair(options.padding ?? 0);
    const [h, w, cin] = inShape;
    const cout = options.outChannels;
    this.outShape = [
      convOutLength(h, kh, this.strides[0], ph),
      convOutLength(w, kw, this.strides[1], pw),
      cout,
    ];
    this.pad =
      ph === pw
        ? ph
        : [
            [0, 0],
            [ph, ph],
            [pw, pw],
            [0, 0],
          ];
    const bound = 1 / Math.sqrt(cin * kh * kw);
    this.weight = store.scoped(name, () => store.uniform('weight', [kh, kw, cin, cout], bound));
    if (options.bias) this.bias = store.scoped(name, () => store.uniform('bias', [cout], bound));
    store.addMacs(this.outShape[0] * this.outShape[1] * cout * kh * kw * cin);
  }

  apply(x: tf.Tensor4D, _ctx?: ForwardContext): tf.Tensor4D {
    const y = tf.conv2d(x, this.weight as tf.Tensor4D, this.strides, this.pad);
    return this.bias ? tf.add(y, this.bias) : y;
  }

  /** Whether applyScaled is available (a conv without bias). */
  get foldable(): boolean {
    return this.bias === undefined;
  }

  /**
   * conv(x, w) * scale (+ shift) per output channel, computed as conv(x, w * scale) with the
   * shift added by the conv kernel itself (no-bias convs only: a folded inference BatchNorm).
   */
  applyScaled(
    x: tf.Tensor4D,
    scale: tf.Tensor1D,
    shift?: tf.Tensor1D,
    _ctx?: ForwardContext,
  ): tf.Tensor4D {
    if (this.bias) throw new Error('applyScaled: a conv with bias does not fold');
    const filter = tf.mul(this.weight, scale) as tf.Tensor4D;
    if (shift) return conv2dWithBias(x, filter, shift, this.strides, this.pad);
    return tf.conv2d(x, filter, this.strides, this.pad);
  }
}
