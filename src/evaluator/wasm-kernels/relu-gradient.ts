/**
 * The ReLU gradient in one pass. tfjs-core's is mul(dy, cast(step(x))): three full-size tensors
 * and passes. We register a `ReluGradRobustNas` kernel on wasm and a Relu gradient that uses it
 * where it exists (falling back to tfjs-core's composition on other backends).
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Relu,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

export const RELU_GRAD_KERNEL = 'ReluGradRobustNas';

export function reluGradWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
}): TensorInfo {
  const { inputs, backend } = args;
  const { x, dy } = inputs;
  const dx = backend.makeOutput([...x.shape], 'float32');
  const n = x.shape.reduce((p, d) => p * d, 1);
  if (n > 0)
    gradKernels(backend).relu_grad(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      heapOffset(backend, dx),
      n,
    );
  return dx;
}

export const reluGradConfig: KernelConfig = {
  kernelName: RELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: reluGradWasm as unknown as KernelFunc,
};

export const reluGradientConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [Tensor];
    const g = dy as Tensor;
    return {
      x: () =>
        x.dtype === 'float32' && tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend())
          ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { x, dy: g }) as Tensor)
          : tf.mul(g, tf.cast(tf.step(x), 'float32')),
    };
  },
};
