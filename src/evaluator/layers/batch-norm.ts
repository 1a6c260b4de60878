/**
 * Affine BatchNorm over NHWC channels, PyTorch semantics (eps 1e-5, momentum 0.1, running variance
 * updated with the unbiased batch variance). Training mode normalises with the batch statistics
 * (the fused batchNormTraining op; gradients flow through the statistics) and keeps them; the train step then
 * calls `commit()` (through the model's commitBatchStatistics) to fold them into the running ones.
 * Inference mode uses the running statistics: a per-channel affine map y = x * scale + shift
 * ({@link BatchNorm.inferenceAffine}), which the layer before it can fold into its filter
 * (conv(x, w) * scale + shift = conv(x, w * scale) + shift; see Sequential and FactorizedReduce).
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTraining } from '../wasm-kernels/batch-norm-op.js';
import type { ForwardContext, Layer, Shape } from './layer.js';
import type { BatchStatisticsHolder, ParameterStore } from './parameter-store.js';

export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

/** A per-channel affine map y = x * scale + shift over C channels. */
export interface ChannelAffine {
  /** [C] */
  readonly scale: tf.Tensor1D;
  /** [C] */
  readonly shift: tf.Tensor1D;
}

export class BatchNorm implements Layer, BatchStatisticsHolder {
  readonly outShape: Shape;
  private readonly gamma: tf.Variable;
  private readonly beta: tf.Variable;
  private readonly runningMean: tf.Variable;
  private readonly runningVar: tf.Variable;
  private pending?: { mean: tf.Tensor; variance: tf.Tensor; count: number };

  constructor(store: ParameterStore, name: string, inShape: Shape) {
    this.outShape = inShape;
    const c = inShape[2];
    [this.gamma, this.beta, this.runningMean, this.runningVar] = store.scoped(name, () => [
      store.filled('weight', [c], 1, true),
      store.filled('bias', [c], 0, true),
      store.filled('running_mean', [c], 0, false),
      store.filled('running_var', [c], 1, false),
    ]);
    store.registerStatistics(this);
  }

  /** The inference-mode map, from the running statistics. */
  inferenceAffine(): ChannelAffine {
    const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVar, BN_EPSILON))) as tf.Tensor1D;
    const shift = tf.sub(this.beta, tf.mul(this.runningMean, scale)) as tf.Tensor1D;
    return { scale, shift };
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    if (!ctx.training) {
      const { scale, shift } = this.inferenceAffine();
      return tf.add(tf.mul(x, scale), shift);
    }
    // One fused op (kernel + backward kernel on wasm; plain tfjs ops elsewhere).
    const { y, mean, variance } = batchNormTraining(
      x,
      this.gamma as tf.Tensor1D,
      this.beta as tf.Tensor1D,
      BN_EPSILON,
    );
    this.discard();
    const [b, h, w] = x.shape;
    this.pending = { mean: tf.keep(mean), variance: tf.keep(variance), count: b * h * w };
    return y;
  }

  /** Folds the last training batch's statistics into the running ones. */
  commit(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    tf.tidy(() => {
      const unbiased = p.count > 1 ? tf.mul(p.variance, p.count / (p.count - 1)) : p.variance;
      this.runningMean.assign(
        tf.add(tf.mul(this.runningMean, 1 - BN_MOMENTUM), tf.mul(p.mean, BN_MOMENTUM)),
      );
      this.runningVar.assign(
        tf.add(tf.mul(this.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)),
      );
    });
    p.mean.dispose();
    p.variance.dispose();
  }

  /** Drops the last training batch's statistics without using them. */
  discard(): void {
    if (!this.pending) return;
    this.pending.mean.dispose();
    this.pending.variance.dispose();
    this.pending = undefined;
  }
}
