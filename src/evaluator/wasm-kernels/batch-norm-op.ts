/**
 * BatchNorm in training mode as one op: per-channel batch mean and (biased) variance over every
 * axis but the last, and y = (x - mean) * rsqrt(var + eps) * gamma + beta. On wasm it is one
 * kernel (`RobustNasBatchNormTrain`, two passes over x) with one fused backward kernel
 * (`RobustNasBatchNormTrainGrad`) that saves only x, gamma and the per-channel mean and 1/std:
 * dx = gamma * invstd / M * (M dy - sum(dy) - xhat sum(dy xhat)), dgamma = sum(dy xhat),
 * dbeta = sum(dy), with M the number of values per channel. On any backend without the kernel it
 * is the plain tfjs-ops formulation (tf.moments, rsqrt, mul, add), differentiated by tfjs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  util,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

export const BN_TRAIN_KERNEL = 'RobustNasBatchNormTrain';
export const BN_TRAIN_GRAD_KERNEL = 'RobustNasBatchNormTrainGrad';
/** PyTorch's default epsilon. */
export const BN_TRAIN_EPSILON = 1e-5;

export interface BatchNormTrainingResult<T extends tf.Tensor> {
  /** The normalised, scaled and shifted input. */
  readonly y: T;
  /** Per-channel batch mean. */
  readonly mean: tf.Tensor1D;
  /** Per-channel biased batch variance (divided by M, not M - 1). */
  readonly variance: tf.Tensor1D;
}

/** Whether the current backend runs the fused kernels (else batchNormTraining uses plain ops). */
export function hasFusedBatchNorm(): boolean {
  return tf.getKernel(BN_TRAIN_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * Training-mode BatchNorm over the last axis (channels of NHWC). Gradients flow to x, gamma and
 * beta (through the batch statistics, as in PyTorch); mean and variance are for the running
 * statistics and carry no gradient of their own.
 */
export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number = BN_TRAIN_EPSILON,
): BatchNormTrainingResult<T> {
  const c = x.shape[x.rank - 1];
  if (x.rank < 2 || c === undefined || x.size === 0)
    throw new RangeError(
      `batchNormTraining: expected a non-empty tensor of rank >= 2, got [${x.shape.join(', ')}]`,
    );
  if (gamma.rank !== 1 || gamma.shape[0] !== c || beta.rank !== 1 || beta.shape[0] !== c)
    throw new RangeError(
      `batchNormTraining: gamma and beta must have shape [${c}], got [${gamma.shape.join(', ')}] and [${beta.shape.join(', ')}]`,
    );
  if (x.dtype === 'float32' && hasFusedBatchNorm()) {
    const [y, mean, variance, invstd] = tf
      .engine()
      .runKernel(BN_TRAIN_KERNEL, { x, gamma, beta }, { epsilon } as unknown as NamedAttrMap) as [
      T,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    invstd.dispose();
    return { y, mean, variance };
  }
  return plainBatchNormTraining(x, gamma, beta, epsilon);
}

/** The same computation from tfjs ops (the fallback, and the reference in tests). */
export function plainBatchNormTraining<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number = BN_TRAIN_EPSILON,
): BatchNormTrainingResult<T> {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.tidy(() => {
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon)));
    const shift = tf.sub(beta, tf.mul(mean, scale));
    return tf.add(tf.mul(x, scale), shift) as T;
  });
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

function rowsAndChannels(shape: readonly number[]): [number, number] {
  const c = shape[shape.length - 1] ?? 0;
  return [c === 0 ? 0 : util.sizeFromShape([...shape]) / c, c];
}

/** Scratch for the kernels: 2*C doubles then 3*C floats (offsets stay 8-byte aligned). */
function withScratch<R>(
  backend: WasmBackendLike,
  c: number,
  run: (acc: number, part: number) => R,
): R {
  const scratch = backend.makeOutput([7 * c], 'float32');
  try {
    const base = heapOffset(backend, scratch);
    return run(base, base + 16 * c);
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

function forwardWasm(args: {
  inputs: { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  backend: WasmBackendLike;
  attrs: { epsilon: number };
}): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x, gamma, beta } = inputs;
  const [rows, c] = rowsAndChannels(x.shape);
  const y = backend.makeOutput([...x.shape], 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const invstd = backend.makeOutput([c], 'float32');
  withScratch(backend, c, (acc, part) =>
    gradKernels(backend).bn_train_forward(
      heapOffset(backend, x),
      heapOffset(backend, gamma),
      heapOffset(backend, beta),
      heapOffset(backend, y),
      heapOffset(backend, mean),
      heapOffset(backend, variance),
      heapOffset(backend, invstd),
      acc,
      part,
      rows,
      c,
      attrs.epsilon,
    ),
  );
  return [y, mean, variance, invstd];
}

function backwardWasm(args: {
  inputs: {
    x: TensorInfo;
    dy: TensorInfo;
    mean: TensorInfo;
    invstd: TensorInfo;
    gamma: TensorInfo;
  };
  backend: WasmBackendLike;
}): TensorInfo[] {
  const { inputs, backend } = args;
  const { x, dy, mean, invstd, gamma } = inputs;
  const [rows, c] = rowsAndChannels(x.shape);
  const dx = backend.makeOutput([...x.shape], 'float32');
  const dgamma = backend.makeOutput([c], 'float32');
  const dbeta = backend.makeOutput([c], 'float32');
  withScratch(backend, c, (acc, part) =>
    gradKernels(backend).bn_train_backward(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      heapOffset(backend, mean),
      heapOffset(backend, invstd),
      heapOffset(backend, gamma),
      heapOffset(backend, dx),
      heapOffset(backend, dgamma),
      heapOffset(backend, dbeta),
      acc,
      part,
      rows,
      c,
    ),
  );
  return [dx, dgamma, dbeta];
}

export const batchNormTrainConfig: KernelConfig = {
  kernelName: BN_TRAIN_KERNEL,
  backendName: 'wasm',
  kernelFunc: forwardWasm as unknown as KernelFunc,
};

export const batchNormTrainGradConfig: KernelConfig = {
  kernelName: BN_TRAIN_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: backwardWasm as unknown as KernelFunc,
};

/**
 * The gradient of the fused op: one backward kernel gives all three gradients (run once, when
 * the tape reaches this node). The mean and variance outputs carry no gradient.
 */
export const batchNormTrainGradientConfig: GradConfig = {
  kernelName: BN_TRAIN_KERNEL,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, false, true],
  gradFunc: (dys, saved) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
    const [x, gamma, mean, invstd] = saved as [Tensor, Tensor, Tensor, Tensor];
    const [dx, dgamma, dbeta] = tf
      .engine()
      .runKernel(BN_TRAIN_GRAD_KERNEL, { x, dy, mean, invstd, gamma }) as Tensor[];
    return { x: () => dx as Tensor, gamma: () => dgamma as Tensor, beta: () => dbeta as Tensor };
  },
};
