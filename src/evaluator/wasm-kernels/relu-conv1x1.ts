/**
 * A ReLU fused into the 1x1 stride-1 convolution after it (DARTS's ReLU-Conv-BN preprocessing of
 * a cell's two inputs), wasm only: y = relu(x) W (+ bias), with relu applied to x as the kernel
 * reads it, so relu(x) is never written, kept for the backward pass or read back. Backward:
 * dx = (dy W^T) where x > 0, else 0 (the ReLU's gradient applied as dx is written), and
 * dW = relu(x)^T dy (relu applied as x is read). The same arithmetic in the same order as the
 * separate ReLU, convolution and ReLU gradient: results are bit-identical to them.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

export const RELU_CONV1X1_KERNEL = 'ReluConv1x1RobustNas';
export const RELU_CONV1X1_INPUT_GRAD_KERNEL = 'ReluConv1x1BackpropInputRobustNas';
export const RELU_CONV1X1_FILTER_GRAD_KERNEL = 'ReluConv1x1BackpropFilterRobustNas';

function dims(x: TensorInfo, filter: TensorInfo, kernel: string): [number, number, number] {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  if (x.shape.length !== 4 || filter.shape.length !== 4 || kh !== 1 || kw !== 1)
    throw new Error(
      `${kernel}: expected NHWC x and a [1,1,Ci,Co] filter, got ${x.shape} and ${filter.shape}`,
    );
  if (x.shape[3] !== ci)
    throw new Error(`${kernel}: x has ${x.shape[3]} channels, the filter ${ci}`);
  const rows = (x.shape[0] as number) * (x.shape[1] as number) * (x.shape[2] as number);
  return [rows, ci, co];
}

function forward(args: {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo };
  backend: WasmBackendLike;
}): TensorInfo {
  const { inputs, backend } = args;
  const { x, filter, bias } = inputs;
  const [rows, ci, co] = dims(x, filter, RELU_CONV1X1_KERNEL);
  if (bias && bias.shape.reduce((a, d) => a * d, 1) !== co)
    throw new Error(`${RELU_CONV1X1_KERNEL}: bias of shape ${bias.shape} for ${co} channels`);
  const y = backend.makeOutput([...x.shape.slice(0, 3), co], 'float32');
  if (rows * co > 0)
    gradKernels(backend).matmul_bias(
      heapOffset(backend, x),
      heapOffset(backend, filter),
      bias ? heapOffset(backend, bias) : 0,
      heapOffset(backend, y),
      rows,
      ci,
      co,
      bias ? 1 : 0,
      1,
      0,
    );
  return y;
}

function inputGrad(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo; x: TensorInfo };
  backend: WasmBackendLike;
}): TensorInfo {
  const { inputs, backend } = args;
  const { dy, filter, x } = inputs;
  const [rows, ci, co] = dims(x, filter, RELU_CONV1X1_INPUT_GRAD_KERNEL);
  if (!tf.util.arraysEqual(dy.shape, [...x.shape.slice(0, 3), co]))
    throw new Error(`${RELU_CONV1X1_INPUT_GRAD_KERNEL}: dy has shape ${dy.shape}`);
  const dx = backend.makeOutput([...x.shape], 'float32');
  if (rows * ci === 0) return dx;
  const k = gradKernels(backend);
  const wT = backend.makeOutput([1, 1, co, ci], 'float32');
  try {
    k.transpose_filter(heapOffset(backend, filter), heapOffset(backend, wT), 1, ci, co);
    k.matmul_bias(
      heapOffset(backend, dy),
      heapOffset(backend, wT),
      0,
      heapOffset(backend, dx),
      rows,
      co,
      ci,
      0,
      0,
      heapOffset(backend, x),
    );
  } finally {
    backend.disposeData(wT.dataId);
  }
  return dx;
}

function filterGrad(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: { filterShape: number[] };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const [, , ci, co] = attrs.filterShape as [number, number, number, number];
  const rows = (x.shape[0] as number) * (x.shape[1] as number) * (x.shape[2] as number);
  if (x.shape[3] !== ci || !tf.util.arraysEqual(dy.shape, [...x.shape.slice(0, 3), co]))
    throw new Error(
      `${RELU_CONV1X1_FILTER_GRAD_KERNEL}: x ${x.shape}, dy ${dy.shape}, filter ${attrs.filterShape}`,
    );
  const dW = backend.makeOutput([1, 1, ci, co], 'float32');
  if (ci * co > 0)
    gradKernels(backend).conv1x1_backprop_filter(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      heapOffset(backend, dW),
      rows,
      ci,
      co,
      1,
    );
  return dW;
}

export const RELU_CONV1X1_KERNELS: readonly KernelConfig[] = [
  {
    kernelName: RELU_CONV1X1_KERNEL,
    backendName: 'wasm',
    kernelFunc: forward as unknown as KernelFunc,
  },
  {
    kernelName: RELU_CONV1X1_INPUT_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: inputGrad as unknown as KernelFunc,
  },
  {
    kernelName: RELU_CONV1X1_FILTER_GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: filterGrad as unknown as KernelFunc,
  },
];

function run(name: string, inputs: Record<string, Tensor>, attrs: object = {}): Tensor {
  return tf.engine().runKernel(name, inputs, attrs as unknown as NamedAttrMap) as Tensor;
}

export const reluConv1x1GradConfig: GradConfig = {
  kernelName: RELU_CONV1X1_KERNEL,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved) => {
    const [x, filter] = saved as [Tensor, Tensor];
    const g = dy as Tensor;
    return {
      x: () => run(RELU_CONV1X1_INPUT_GRAD_KERNEL, { dy: g, filter, x }),
      filter: () =>
        run(RELU_CONV1X1_FILTER_GRAD_KERNEL, { x, dy: g }, { filterShape: filter.shape }),
      bias: () => tf.sum(g, [0, 1, 2]),
    };
  },
};

/** Whether reluConv1x1 can run here (the wasm backend with these kernels registered). */
export function reluConv1x1Available(): boolean {
  return tf.getKernel(RELU_CONV1X1_KERNEL, tf.getBackend()) !== undefined;
}

/** relu(x) conv filter (+ bias) in one kernel, differentiable; `filter` is [1,1,Ci,Co]. */
export function reluConv1x1(x: tf.Tensor4D, filter: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
  if (!tf.getGradient(RELU_CONV1X1_KERNEL)) tf.registerGradient(reluConv1x1GradConfig);
  return run(RELU_CONV1X1_KERNEL, bias ? { x, filter, bias } : { x, filter }) as tf.Tensor4D;
}
