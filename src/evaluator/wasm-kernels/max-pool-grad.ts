/**
 * wasm kernel MaxPoolGrad, replacing tfjs-backend-wasm's (about 15 ms per DARTS reduction-cell pool
 * at batch 16): SIMD over channels, the gradient goes to the first maximum of each window.
 */
import {
  backend_util,
  MaxPoolGrad,
  type KernelConfig,
  type KernelFunc,
  type MaxPoolGradAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';
import { checkOutputShape } from './shape-checks.js';

export function maxPoolGradWasm(args: {
  inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
  backend: WasmBackendLike;
  attrs: MaxPoolGradAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  checkOutputShape(MaxPoolGrad, dy.shape, [
    info.batchSize,
    info.outHeight,
    info.outWidth,
    info.inChannels,
  ]);
  const dx = backend.makeOutput([...input.shape], 'float32');
  if (input.shape.some((d) => d === 0)) return dx;
  gradKernels(backend).max_pool_grad(
    heapOffset(backend, input),
    heapOffset(backend, dy),
    heapOffset(backend, dx),
    ...poolGeometry(info),
  );
  return dx;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
};

/**
 * The window geometry the max-pool kernels take after their pointers: N, H, W, C, OH, OW, KH, KW,
 * stride h and w, padding top and left.
 */
export function poolGeometry(
  info: backend_util.Conv2DInfo,
): [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}
