/**
 * wasm kernel DepthwiseConv2dNativeBackpropInput (missing from tfjs-backend-wasm): the input
 * gradient of a depthwise convolution, any stride, dilation, padding and channel multiplier.
 * Stride 1 with multiplier 1 goes through XNNPACK as a convolution of dy (input-grad-as-conv.ts).
 */
import {
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, geometryArgs } from './conv-geometry.js';
import { inputGradAsConv } from './input-grad-as-conv.js';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';
import { checkOutputShape } from './shape-checks.js';

export function depthwiseConv2dBackpropInputWasm(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackendLike;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const g = convGeometry(
    attrs.inputShape,
    filter.shape,
    attrs,
    true,
    DepthwiseConv2dNativeBackpropInput,
  );
  checkOutputShape(DepthwiseConv2dNativeBackpropInput, dy.shape, [g.N, g.OH, g.OW, g.C * g.M]);
  if (g.N * g.H * g.W * g.C > 0) {
    const viaConv = inputGradAsConv(backend, dy, filter, g, true);
    if (viaConv) return viaConv;
  }
  const dx = backend.makeOutput([...attrs.inputShape], 'float32');
  if (g.N * g.H * g.W * g.C === 0) return dx;
  gradKernels(backend).depthwise_backprop_input(
    heapOffset(backend, dy),
    heapOffset(backend, filter),
    heapOffset(backend, dx),
    ...geometryArgs(g),
  );
  return dx;
}

export const depthwiseConv2dBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropInputWasm as unknown as KernelFunc,
};
