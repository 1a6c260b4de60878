/**
 * wasm Sum and Mean over leading axes (BatchNorm's [0,1,2] on NHWC, and every broadcast gradient
 * of a per-channel tensor) without the full transpose tfjs-backend-wasm does first. Other
 * reductions go to tfjs-backend-wasm's own kernels.
 */
import {
  Mean,
  Sum,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** The number of leading axes reduced, or 0 when the reduction is not over leading axes only. */
function leadingAxes(shape: readonly number[], axis: number | number[]): number {
  const axes = [...new Set(util.parseAxisParam(axis, [...shape]))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function makeReduce(kernelName: typeof Sum | typeof Mean, original: KernelConfig): KernelConfig {
  const fallback = original.kernelFunc;
  const kernelFunc = (args: {
    inputs: { x: TensorInfo };
    backend: WasmBackendLike;
    attrs: ReduceAttrs;
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const k = x.dtype === 'float32' ? leadingAxes(x.shape, attrs.axis) : 0;
    const rows = x.shape.slice(0, k).reduce((p, d) => p * d, 1);
    const cols = x.shape.slice(k).reduce((p, d) => p * d, 1);
    if (k === 0 || rows === 0 || cols === 0)
      return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
    const outShape = attrs.keepDims
      ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)]
      : x.shape.slice(k);
    const out = backend.makeOutput(outShape, 'float32');
    const part = backend.makeOutput([cols], 'float32');
    try {
      gradKernels(backend).sum_leading(
        heapOffset(backend, x),
        heapOffset(backend, out),
        heapOffset(backend, part),
        rows,
        cols,
        kernelName === Mean ? 1 / rows : 1,
      );
    } finally {
      backend.disposeData(part.dataId);
    }
    return out;
  };
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** Our Sum and Mean, wrapping tfjs-backend-wasm's (passed in) for the cases we do not handle. */
export function reductionConfigs(
  originalSum: KernelConfig,
  originalMean: KernelConfig,
): KernelConfig[] {
  return [makeReduce(Sum, originalSum), makeReduce(Mean, originalMean)];
}
