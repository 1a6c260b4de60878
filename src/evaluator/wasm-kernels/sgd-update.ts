/**
 * One SGD-with-momentum update of one parameter in a single wasm kernel call (PyTorch semantics,
 * as sgd.ts): g' = g + wd * p; buf' = first ? g' : momentum * buf + g';
 * step = nesterov ? g' + momentum * buf' : buf'; p' = p - lr * step. Outputs [p', buf'] (buf' is
 * g' itself when momentum is 0). tfjs's op-by-op version costs six kernel calls and five
 * full-size temporaries per parameter, which for DARTS's ~250 small parameters is ~1500 kernel
 * calls per training step. Every intermediate is rounded to float32 as the op-by-op version does.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

export const SGD_UPDATE_KERNEL = 'RobustNasSgdUpdate';

export interface SgdUpdateAttrs {
  learningRate: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

const f = Math.fround;

export function sgdUpdateWasm(args: {
  inputs: { p: TensorInfo; g: TensorInfo; buf?: TensorInfo };
  attrs: SgdUpdateAttrs;
  backend: HeapBackend;
}): TensorInfo[] {
  const { p, g, buf } = args.inputs;
  const { learningRate, momentum, weightDecay, nesterov } = args.attrs;
  const backend = args.backend;
  const outP = backend.makeOutput([...p.shape], 'float32');
  const outBuf = backend.makeOutput([...p.shape], 'float32');
  // Views taken after makeOutput, which may grow (and so detach) the heap.
  const pv = backend.typedArrayFromHeap(p);
  const gv = backend.typedArrayFromHeap(g);
  const bv = buf ? backend.typedArrayFromHeap(buf) : undefined;
  const po = backend.typedArrayFromHeap(outP);
  const bo = backend.typedArrayFromHeap(outBuf);
  const lr = f(learningRate);
  const m = f(momentum);
  const wd = f(weightDecay);
  for (let i = 0; i < pv.length; i++) {
    const pi = pv[i] as number;
    let gi = gv[i] as number;
    if (wd !== 0) gi = f(gi + f(wd * pi));
    let step = gi;
    if (m !== 0) {
      const b = bv ? f(f(m * (bv[i] as number)) + gi) : gi;
      bo[i] = b;
      step = nesterov ? f(gi + f(m * b)) : b;
    } else {
      bo[i] = gi;
    }
    po[i] = f(pi - f(step * lr));
  }
  return [outP, outBuf];
}

export const sgdUpdateConfig: KernelConfig = {
  kernelName: SGD_UPDATE_KERNEL,
  backendName: 'wasm',
  kernelFunc: sgdUpdateWasm as unknown as KernelFunc,
};

/** The attrs as tfjs's runKernel takes them. */
export function sgdUpdateAttrs(attrs: SgdUpdateAttrs): NamedAttrMap {
  return attrs as unknown as NamedAttrMap;
}
