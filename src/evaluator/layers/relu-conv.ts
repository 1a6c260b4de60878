/**
 * ReLU then a dense convolution (DARTS's ReLU-Conv order), one layer with the convolution's
 * parameters (same names, shapes and initialisation as Conv2d's). On wasm a 1x1 stride-1 conv
 * without bias runs with the ReLU fused into its kernels (wasm-kernels/relu-conv1x1.ts: relu(x) is
 * never stored, its gradient is applied as dx is written), in training and, with a folded
 * BatchNorm, in inference; bit-identical to the separate ReLU and conv. Off by default, on with
 * env ROBUST_NAS_RELU_FUSION=1 or `setReluFusion(true)`: measured 0.80-0.95x the separate ReLU on
 * whole CIFAR steps (bench/profiles/kernels-2026-12-07), because the 1x1 kernel broadcasts x one
 * element at a time, so the fused ReLU costs one max per element per 8 output channels and per
 * consumer (a cell output feeds two preprocessing convs), where the separate ReLU is one vector max
 * per 4 elements, shared. Otherwise it is the ReLU (shared through the forward context) then the conv.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reluConv1x1, reluConv1x1Available } from '../wasm-kernels/relu-conv1x1.js';
import { Conv2d, type Conv2dOptions } from './conv2d.js';
import type { ForwardContext, Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { rectify } from './relu.js';

export const RELU_FUSION_ENV_VAR = 'ROBUST_NAS_RELU_FUSION';

let enabled: boolean | undefined;

/** Off unless ROBUST_NAS_RELU_FUSION=1: measured slower than the separate ReLU (see the header). */
function fromEnv(): boolean {
  const v = process.env[RELU_FUSION_ENV_VAR];
  if (v === undefined || v === '' || v === '0') return false;
  if (v === '1') return true;
  throw new Error(`${RELU_FUSION_ENV_VAR} must be 0 or 1, got ${JSON.stringify(v)}`);
}

/** Turns the fused path on or off (A/B runs and tests); undefined: back to the env's choice. */
export function setReluFusion(on: boolean | undefined): void {
  enabled = on;
}

export class ReluConv2d extends Conv2d {
  private readonly pointwise: boolean;

  constructor(store: ParameterStore, name: string, inShape: Shape, options: Conv2dOptions) {
    super(store, name, inShape, options);
    const k = options.kernel;
    const one = (v: number | readonly [number, number] | undefined, d: number) =>
      (typeof v === 'number' ? [v, v] : (v ?? [d, d])).every((e) => e === d);
    this.pointwise =
      one(k, 1) && one(options.stride, 1) && one(options.padding, 0) && !options.bias;
  }

  /** Whether this call runs fused. */
  fused(x: tf.Tensor4D): boolean {
    return (
      this.pointwise && x.dtype === 'float32' && (enabled ?? fromEnv()) && reluConv1x1Available()
    );
  }

  override apply(x: tf.Tensor4D, ctx?: ForwardContext): tf.Tensor4D {
    if (this.fused(x)) return reluConv1x1(x, this.weight as tf.Tensor4D);
    return super.apply(rectify(x, ctx));
  }

  override applyScaled(
    x: tf.Tensor4D,
    scale: tf.Tensor1D,
    shift?: tf.Tensor1D,
    ctx?: ForwardContext,
  ): tf.Tensor4D {
    if (!this.fused(x)) return super.applyScaled(rectify(x, ctx), scale, shift);
    const filter = tf.mul(this.weight, scale) as tf.Tensor4D;
    return reluConv1x1(x, filter, shift);
  }
}
