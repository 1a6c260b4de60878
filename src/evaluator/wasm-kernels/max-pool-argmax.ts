/**
 * Max pooling that keeps the argmax of every window from the forward pass for the backward pass
 * (as PyTorch's max_pool2d_with_indices does), so that the gradient is one scatter instead of a
 * second search of every window (max-pool-grad.ts). wasm only, used by the MaxPool layer while a
 * gradient tape records (training and attack steps); elsewhere the layer calls tf.maxPool.
 *
 * tfjs's gradient machinery gives a kernel with two outputs a gradient for each, filling the one
 * nobody differentiates (here the int32 argmax) with a fresh tensor of zeros on every backward
 * pass. Instead the argmax lives in an int32 tensor that is an INPUT of the forward kernel, made
 * uninitialised by MaxPoolArgmaxScratchRobustNas and filled in place by the forward kernel (the
 * one kernel of ours that writes into an input; nothing else holds that tensor). The gradient
 * saves it (a shared, not copied, clone: identity-share.ts) and scatters dy by it. Same window
 * search and tie rule (the first maximum) as max_pool_grad: gradients are bit-identical to it.
 *
 * Env ROBUST_NAS_MAXPOOL_ARGMAX=0 (or `setMaxPoolArgmax(false)`) turns it off, for A/B runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  backend_util,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';
import { poolGeometry } from './max-pool-grad.js';

export const MAX_POOL_ARGMAX_KERNEL = 'MaxPoolArgmaxRobustNas';
export const MAX_POOL_ARGMAX_GRAD_KERNEL = 'MaxPoolArgmaxGradRobustNas';
export const MAX_POOL_ARGMAX_SCRATCH_KERNEL = 'MaxPoolArgmaxScratchRobustNas';
export const MAX_POOL_ARGMAX_ENV_VAR = 'ROBUST_NAS_MAXPOOL_ARGMAX';

interface PoolAttrs {
  filterSize: number;
  strides: number;
  pad: number;
  /** x's shape, for the gradient (which then need not keep x alive). */
  inputShape: number[];
}

interface HeapBackend extends WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo;
  dataIdMap: WasmBackendLike['dataIdMap'];
}

function int32Offset(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor is not held by this wasm backend');
  if (t.dtype !== 'int32') throw new Error(`expected an int32 tensor, got ${t.dtype}`);
  return data.memoryOffset;
}

function poolInfo(
  xShape: readonly number[],
  a: Omit<PoolAttrs, 'inputShape'>,
): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
  );
}

const scratchKernel: KernelConfig = {
  kernelName: MAX_POOL_ARGMAX_SCRATCH_KERNEL,
  backendName: 'wasm',
  kernelFunc: ((args: { backend: HeapBackend; attrs: { shape: number[] } }) =>
    args.backend.makeOutput([...args.attrs.shape], 'int32')) as unknown as KernelFunc,
};

const forwardKernel: KernelConfig = {
  kernelName: MAX_POOL_ARGMAX_KERNEL,
  backendName: 'wasm',
  kernelFunc: ((args: {
    inputs: { x: TensorInfo; argmax: TensorInfo };
    backend: HeapBackend;
    attrs: PoolAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x, argmax } = inputs;
    if (!tf.util.arraysEqual(x.shape, attrs.inputShape))
      throw new Error(
        `${MAX_POOL_ARGMAX_KERNEL}: x has shape ${x.shape}, attrs say ${attrs.inputShape}`,
      );
    const info = poolInfo(x.shape, attrs);
    const outShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    if (!tf.util.arraysEqual(argmax.shape, outShape))
      throw new Error(
        `${MAX_POOL_ARGMAX_KERNEL}: argmax has shape ${argmax.shape}, expected ${outShape}`,
      );
    const y = backend.makeOutput(outShape, 'float32');
    if (outShape.every((d) => d > 0) && x.shape.every((d) => d > 0))
      gradKernels(backend).max_pool_argmax(
        heapOffset(backend, x),
        heapOffset(backend, y),
        int32Offset(backend, argmax),
        ...poolGeometry(info),
      );
    return y;
  }) as unknown as KernelFunc,
};

const gradKernel: KernelConfig = {
  kernelName: MAX_POOL_ARGMAX_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: ((args: {
    inputs: { dy: TensorInfo; argmax: TensorInfo };
    backend: HeapBackend;
    attrs: { inputShape: number[] };
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { dy, argmax } = inputs;
    if (!tf.util.arraysEqual(dy.shape, argmax.shape))
      throw new Error(
        `${MAX_POOL_ARGMAX_GRAD_KERNEL}: dy has shape ${dy.shape}, argmax ${argmax.shape}`,
      );
    const [n, h, w, c] = attrs.inputShape as [number, number, number, number];
    const dx = backend.makeOutput([n, h, w, c], 'float32');
    const ohw = (dy.shape[1] as number) * (dy.shape[2] as number);
    if (n * h * w * c > 0)
      gradKernels(backend).max_pool_grad_argmax(
        int32Offset(backend, argmax),
        heapOffset(backend, dy),
        heapOffset(backend, dx),
        n,
        h * w,
        ohw,
        c,
      );
    return dx;
  }) as unknown as KernelFunc,
};

export const maxPoolArgmaxGradConfig: GradConfig = {
  kernelName: MAX_POOL_ARGMAX_KERNEL,
  inputsToSave: ['argmax'],
  gradFunc: (dy, saved, attrs) => {
    const [argmax] = saved as [Tensor];
    const { inputShape } = attrs as unknown as PoolAttrs;
    return {
      x: () =>
        tf.engine().runKernel(MAX_POOL_ARGMAX_GRAD_KERNEL, { dy: dy as Tensor, argmax }, {
          inputShape,
        } as unknown as NamedAttrMap) as Tensor,
      argmax: () => tf.zerosLike(argmax),
    };
  },
};

/** The wasm kernels (registered by registerWasmTrainingKernels). */
export const MAX_POOL_ARGMAX_KERNELS: readonly KernelConfig[] = [
  scratchKernel,
  forwardKernel,
  gradKernel,
];

let enabled: boolean | undefined;

function fromEnv(): boolean {
  const v = process.env[MAX_POOL_ARGMAX_ENV_VAR];
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new Error(`${MAX_POOL_ARGMAX_ENV_VAR} must be 0 or 1, got ${JSON.stringify(v)}`);
}

/** Turns the argmax path on or off (A/B runs and tests); undefined: back to the env's choice. */
export function setMaxPoolArgmax(on: boolean | undefined): void {
  enabled = on;
}

/** Whether the MaxPool layer would keep the argmax now (wasm, a tape recording, not turned off). */
export function maxPoolArgmaxActive(): boolean {
  return (
    (enabled ?? fromEnv()) &&
    tf.engine().isTapeOn() &&
    tf.getKernel(MAX_POOL_ARGMAX_KERNEL, tf.getBackend()) !== undefined
  );
}

/**
 * tf.maxPool(x, size, stride, pad) with explicit symmetric padding; keeps the argmax for the
 * backward pass when `maxPoolArgmaxActive()`. Same values and gradients either way.
 */
export function maxPoolKeepingArgmax(
  x: tf.Tensor4D,
  size: number,
  stride: number,
  pad: number,
): tf.Tensor4D {
  if (x.dtype !== 'float32' || !maxPoolArgmaxActive()) return tf.maxPool(x, size, stride, pad);
  if (!tf.getGradient(MAX_POOL_ARGMAX_KERNEL)) tf.registerGradient(maxPoolArgmaxGradConfig);
  const attrs: PoolAttrs = { filterSize: size, strides: stride, pad, inputShape: [...x.shape] };
  const info = poolInfo(x.shape, attrs);
  const shape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  return tf.tidy(() => {
    const argmax = tf.engine().runKernel(MAX_POOL_ARGMAX_SCRATCH_KERNEL, {}, {
      shape,
    } as unknown as NamedAttrMap) as Tensor;
    return tf
      .engine()
      .runKernel(
        MAX_POOL_ARGMAX_KERNEL,
        { x, argmax },
        attrs as unknown as NamedAttrMap,
      ) as tf.Tensor4D;
  });
}
