/**
 * A wasm Slice that copies straight between heap views. tfjs-backend-wasm's first copies the whole
 * input out of the heap (readSync) and then copies the slice row by row; for rank 5 and more it
 * goes element by element through a generic index computation. This one merges the trailing
 * dimensions the slice keeps whole into one contiguous run and copies each run with one
 * TypedArray.set: FactorizedReduce's shifted input and the stride-2 dilated conv's even positions
 * are such slices. String tensors run the original.
 */
import {
  Slice,
  slice_util,
  util,
  type KernelConfig,
  type KernelFunc,
  type SliceAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

type HeapArray = Float32Array | Int32Array | Uint8Array;

interface HeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): HeapArray;
}

/** Copies x[begin : begin + size] (row-major, any rank) from `src` into `dst`. */
export function copySlice(
  src: HeapArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: HeapArray,
): void {
  const rank = shape.length;
  const strides = util.computeStrides([...shape]);
  const stride = (d: number) => (d === rank - 1 ? 1 : (strides[d] as number));
  // Innermost dimension k not taken whole; the run covers size[k] x everything after k.
  let k = rank - 1;
  while (k >= 0 && size[k] === shape[k]) k--;
  if (k < 0) {
    dst.set(src.subarray(0, dst.length));
    return;
  }
  const run = (size[k] as number) * (k === rank - 1 ? 1 : (strides[k] as number));
  const index = new Array<number>(k).fill(0);
  const outer = size.slice(0, k).reduce((a, b) => a * b, 1);
  let out = 0;
  for (let n = 0; n < outer; n++) {
    let offset = (begin[k] as number) * stride(k);
    for (let d = 0; d < k; d++) offset += ((begin[d] as number) + (index[d] as number)) * stride(d);
    dst.set(src.subarray(offset, offset + run), out);
    out += run;
    for (let d = k - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (size[d] as number)) break;
      index[d] = 0;
    }
  }
}

/** Our Slice, wrapping tfjs-backend-wasm's (passed in) for string tensors. */
export function sliceHeapConfig(original: KernelConfig): KernelConfig {
  const kernelFunc = ((args: {
    inputs: { x: TensorInfo };
    attrs: SliceAttrs;
    backend: HeapBackend;
  }) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original.kernelFunc(args as never);
    const [begin, size] = slice_util.parseSliceParams(x, args.attrs.begin, args.attrs.size);
    const out = args.backend.makeOutput(size, x.dtype);
    if (util.sizeFromShape(size) === 0) return out;
    // Views taken after makeOutput, which may grow (and so detach) the heap.
    const src = args.backend.typedArrayFromHeap(x);
    const dst = args.backend.typedArrayFromHeap(out);
    copySlice(src, x.shape, begin, size, dst);
    return out;
  }) as unknown as KernelFunc;
  return { kernelName: Slice, backendName: 'wasm', setupFunc: original.setupFunc, kernelFunc };
}
