/**
 * wasm kernel Conv2DBackpropFilter (missing from tfjs-backend-wasm): the filter gradient of a
 * regular 2-D convolution, any stride, padding and (via the `dilations` attribute our gradient
 * may pass) dilation. 1x1 stride-1 convolutions get a register-blocked matrix-product kernel.
 */
import {
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, geometryArgs, type ConvAttrsLike } from './conv-geometry.js';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';
import { checkOutputShape } from './shape-checks.js';

export function conv2dBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: Conv2DBackpropFilterAttrs & Pick<ConvAttrsLike, 'dilations'>;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const g = convGeometry(x.shape, attrs.filterShape, attrs, false, Conv2DBackpropFilter);
  checkOutputShape(Conv2DBackpropFilter, dy.shape, [g.N, g.OH, g.OW, g.M]);
  const dW = backend.makeOutput([...attrs.filterShape], 'float32');
  if (g.KH * g.KW * g.C * g.M === 0) return dW;
  const pointwise =
    g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.OH === g.H && g.OW === g.W;
  if (pointwise) {
    // A 1x1 stride-1 convolution (no padding possible): dW = x^T dy over all pixels.
    gradKernels(backend).conv1x1_backprop_filter(
      heapOffset(backend, x),
      heapOffset(backend, dy),
      heapOffset(backend, dW),
      g.N * g.H * g.W,
      g.C,
      g.M,
      0,
    );
    return dW;
  }
  gradKernels(backend).conv_backprop_filter(
    heapOffset(backend, x),
    heapOffset(backend, dy),
    heapOffset(backend, dW),
    ...geometryArgs(g),
  );
  return dW;
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm as unknown as KernelFunc,
};
