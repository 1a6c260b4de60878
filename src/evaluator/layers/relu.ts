/** ReLU as a layer (for sequences such as ReLU-Conv-BN), shared through the forward context. */
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext, Layer, Shape } from './layer.js';

export class Relu implements Layer {
  constructor(readonly outShape: Shape) {}

  apply(x: tf.Tensor4D, ctx?: ForwardContext): tf.Tensor4D {
    return rectify(x, ctx);
  }
}

/** relu(x), from the context's per-pass cache when it has one. */
export function rectify(x: tf.Tensor4D, ctx?: ForwardContext): tf.Tensor4D {
  return ctx?.relu ? ctx.relu(x) : tf.relu(x);
}

/**
 * A per-forward-pass ReLU cache keyed by tensor: the second request for the same tensor returns
 * the first result (recomputed if an inner tf.tidy has disposed it meanwhile).
 */
export function reluCache(): (x: tf.Tensor4D) => tf.Tensor4D {
  const cache = new Map<tf.Tensor4D, tf.Tensor4D>();
  return (x) => {
    const hit = cache.get(x);
    if (hit && !hit.isDisposed) return hit;
    const y = tf.relu(x);
    cache.set(x, y);
    return y;
  };
}
