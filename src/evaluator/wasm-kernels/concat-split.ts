/**
 * wasm Concat and SplitV on the last axis (DARTS concatenates cell outputs on channels, and the
 * gradient splits them back). tfjs-backend-wasm copies those row by row in JavaScript; we copy in
 * wasm. Any other axis or dtype goes to tfjs-backend-wasm's own kernels.
 */
import {
  backend_util,
  Concat,
  SplitV,
  util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

type Args = Parameters<KernelFunc>[0];

function lastAxis(shape: readonly number[], axis: number | number[]): boolean {
  return shape.length >= 2 && util.parseAxisParam(axis, [...shape])[0] === shape.length - 1;
}

function makeConcat(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: {
    inputs: TensorInfo[];
    backend: WasmBackendLike;
    attrs: { axis: number | number[] };
  }): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const first = inputs[0];
    if (
      !first ||
      inputs.length < 2 ||
      !lastAxis(first.shape, attrs.axis) ||
      inputs.some((t) => t.dtype !== 'float32')
    )
      return original.kernelFunc(args as unknown as Args) as TensorInfo;
    const axis = first.shape.length - 1;
    backend_util.assertParamsConsistent(
      inputs.map((t) => t.shape),
      axis,
    );
    const outShape = backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      axis,
    );
    const out = backend.makeOutput(outShape, 'float32');
    const rows = util.sizeFromShape(outShape.slice(0, axis));
    const total = outShape[axis]!;
    if (rows === 0 || total === 0) return out;
    const kernels = gradKernels(backend);
    let offset = 0;
    for (const t of inputs) {
      const cols = t.shape[axis]!;
      if (cols > 0)
        kernels.copy_into_columns(
          heapOffset(backend, t),
          heapOffset(backend, out),
          rows,
          cols,
          total,
          offset,
        );
      offset += cols;
    }
    return out;
  };
  return {
    kernelName: Concat,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

function makeSplitV(original: KernelConfig): KernelConfig {
  const kernelFunc = (args: {
    inputs: { x: TensorInfo };
    backend: WasmBackendLike;
    attrs: { numOrSizeSplits: number | number[]; axis: number | number[] };
  }): TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    if (x.dtype !== 'float32' || !lastAxis(x.shape, attrs.axis))
      return original.kernelFunc(args as unknown as Args) as TensorInfo[];
    const axis = x.shape.length - 1;
    const sizes = backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits, axis);
    const rows = util.sizeFromShape(x.shape.slice(0, axis));
    const total = x.shape[axis]!;
    const kernels = gradKernels(backend);
    let offset = 0;
    return sizes.map((cols) => {
      const out = backend.makeOutput([...x.shape.slice(0, axis), cols], 'float32');
      if (rows > 0 && cols > 0)
        kernels.copy_from_columns(
          heapOffset(backend, x),
          heapOffset(backend, out),
          rows,
          total,
          cols,
          offset,
        );
      offset += cols;
      return out;
    });
  };
  return {
    kernelName: SplitV,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** Our Concat and SplitV, wrapping tfjs-backend-wasm's (passed in) for the cases we do not handle. */
export function concatSplitConfigs(
  originalConcat: KernelConfig,
  originalSplitV: KernelConfig,
): KernelConfig[] {
  return [makeConcat(originalConcat), makeSplitV(originalSplitV)];
}
