/**
 * Folding an inference-mode BatchNorm into the convolution before it. In inference BN is a
 * per-channel affine map y = x * scale + shift; conv(x, w) * scale + shift equals
 * conv(x, w * scale) + shift, which skips one full-size multiply (and, under a gradient tape, the
 * saved conv output and the multiply's backward pass) at the cost of scaling the small filter.
 * The map is read off the layer itself, by applying it to an all-zeros and an all-ones pixel
 * (shift = bn(0), scale = bn(1) - bn(0)), so any affine inference-mode layer folds.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext, Layer } from './layer.js';

export interface ChannelAffine {
  /** [C] */
  readonly scale: tf.Tensor1D;
  /** [C] */
  readonly shift: tf.Tensor1D;
}

/** The per-channel affine map an inference-mode layer (BatchNorm) applies to C channels. */
export function inferenceAffine(
  layer: Layer,
  channels: number,
  ctx: ForwardContext,
): ChannelAffine {
  if (ctx.training) throw new Error('inferenceAffine: only an inference-mode layer is affine');
  const probe = tf.tensor4d(new Float32Array(2 * channels).fill(1, channels), [2, 1, 1, channels]);
  const out = tf.reshape(layer.apply(probe, ctx), [2, channels]);
  const [zero, one] = tf.unstack(out) as [tf.Tensor1D, tf.Tensor1D];
  return { scale: tf.sub(one, zero), shift: zero };
}
