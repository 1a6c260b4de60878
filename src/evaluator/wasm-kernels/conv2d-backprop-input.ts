/**
 * wasm kernel Conv2DBackpropInput, replacing tfjs-backend-wasm's slow one: the input gradient of a
 * regular 2-D convolution, any stride, padding and (via the `dilations` attribute our gradient may
 * pass) dilation. Stride 1 goes through XNNPACK as a convolution of dy (input-grad-as-conv.ts).
 */
import {
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, geometryArgs, type ConvAttrsLike } from './conv-geometry.js';
import { inputGradAsConv } from './input-grad-as-conv.js';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';
import { checkOutputShape } from './shape-checks.js';

export function conv2dBackpropInputWasm(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackendLike;
  attrs: Conv2DBackpropInputAttrs & Pick<ConvAttrsLike, 'dilations'>;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const g = convGeometry(attrs.inputShape, filter.shape, attrs, false, Conv2DBackpropInput);
  checkOutputShape(Conv2DBackpropInput, dy.shape, [g.N, g.OH, g.OW, g.M]);
  if (g.N * g.H * g.W * g.C > 0 && g.M > 0) {
    const viaConv = inputGradAsConv(backend, dy, filter, g, false);
    if (viaConv) return viaConv;
  }
  const dx = backend.makeOutput([...attrs.inputShape], 'float32');
  if (g.N * g.H * g.W * g.C === 0) return dx;
  const kernels = gradKernels(backend);
  // The kernel wants the filter as [KH,KW,Co,Ci] so its inner loop runs over contiguous Ci.
  const filterT = backend.makeOutput([g.KH, g.KW, g.M, g.C], 'float32');
  try {
    kernels.transpose_filter(
      heapOffset(backend, filter),
      heapOffset(backend, filterT),
      g.KH * g.KW,
      g.C,
      g.M,
    );
    kernels.conv_backprop_input(
      heapOffset(backend, dy),
      heapOffset(backend, filterT),
      heapOffset(backend, dx),
      ...geometryArgs(g),
    );
  } finally {
    backend.disposeData(filterT.dataId);
  }
  return dx;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInputWasm as unknown as KernelFunc,
};
