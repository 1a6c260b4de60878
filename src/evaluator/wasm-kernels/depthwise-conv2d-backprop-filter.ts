/**
 * wasm kernel DepthwiseConv2dNativeBackpropFilter (missing from tfjs-backend-wasm): the filter
 * gradient of a depthwise convolution, any stride, dilation, padding and channel multiplier.
 */
import {
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, geometryArgs } from './conv-geometry.js';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';
import { checkOutputShape } from './shape-checks.js';

export function depthwiseConv2dBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const g = convGeometry(
    x.shape,
    attrs.filterShape,
    attrs,
    true,
    DepthwiseConv2dNativeBackpropFilter,
  );
  checkOutputShape(DepthwiseConv2dNativeBackpropFilter, dy.shape, [g.N, g.OH, g.OW, g.C * g.M]);
  const dW = backend.makeOutput([...attrs.filterShape], 'float32');
  if (g.KH * g.KW * g.C * g.M === 0) return dW;
  gradKernels(backend).depthwise_backprop_filter(
    heapOffset(backend, x),
    heapOffset(backend, dy),
    heapOffset(backend, dW),
    ...geometryArgs(g),
  );
  return dW;
}

export const depthwiseConv2dBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropFilterWasm as unknown as KernelFunc,
};
