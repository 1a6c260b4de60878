/**
 * The building block of every network: a layer knows its output shape at build time (so parameter
 * and multiply-add counts are exact without running it) and maps an NHWC batch to an NHWC batch.
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Per-image shape [height, width, channels] (NHWC without the batch). */
export type Shape = readonly [h: number, w: number, c: number];

/** What a forward pass needs besides the input. */
export interface ForwardContext {
  readonly training: boolean;
  /** Drop-path probability (DARTS semantics, training only); 0 disables it. */
  readonly dropPathProb: number;
  /** A fresh per-sample keep mask [batch,1,1,1] already scaled by 1/keep, for one drop-path site. */
  dropPathMask(batch: number): tf.Tensor4D;
  /**
   * ReLU of a tensor, computed once per forward pass however many layers start by rectifying the
   * same tensor (a cell state read by several ops). Absent: each layer applies its own tf.relu.
   */
  relu?(x: tf.Tensor4D): tf.Tensor4D;
  /** Whether to run the auxiliary head (training only; absent: whenever training). */
  readonly auxiliary?: boolean;
}

export interface Layer {
  readonly outShape: Shape;
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
}

/** Output length of a convolution or pooling window (PyTorch's floor formula). */
export function convOutLength(
  length: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation = 1,
): number {
  const out = Math.floor((length + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
  if (out < 1) {
    throw new RangeError(
      `input of size ${length} is too small for a ${kernel}-wide window (stride ${stride}, padding ${pad})`,
    );
  }
  return out;
}
