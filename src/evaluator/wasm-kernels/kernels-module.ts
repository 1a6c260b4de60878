/**
 * The bridge to our compiled gradient kernels (kernels.c, embedded as base64 in kernels-wasm.ts).
 * The module imports the wasm backend's own memory, so its functions take tensors' heap offsets
 * directly: no copies in or out. One instance per wasm backend instance, created on first use.
 */
import type { DataId, TensorInfo } from '@tensorflow/tfjs-core';
import { KERNELS_WASM_BASE64 } from './kernels-wasm.js';

/** The parts of tfjs's BackendWasm our kernels use (its published types do not expose them all). */
export interface WasmBackendLike {
  readonly wasm: {
    readonly asm: { readonly memory: WebAssembly.Memory };
    readonly HEAPF32: Float32Array;
  };
  readonly dataIdMap: {
    get(
      dataId: DataId,
    ): { id: number; memoryOffset: number; shape: number[]; dtype: string } | undefined;
  };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

/** Signature shared by the four convolution-gradient entry points (pointers are byte offsets). */
export type ConvGradFn = (
  a: number,
  b: number,
  out: number,
  N: number,
  H: number,
  W: number,
  C: number,
  M: number,
  OH: number,
  OW: number,
  KH: number,
  KW: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  pt: number,
  pl: number,
) => void;

export interface GradKernelsModule {
  readonly depthwise_backprop_input: ConvGradFn;
  readonly depthwise_backprop_filter: ConvGradFn;
  readonly conv_backprop_filter: ConvGradFn;
  readonly conv_backprop_input: ConvGradFn;
  readonly transpose_filter: (
    src: number,
    dst: number,
    taps: number,
    ci: number,
    co: number,
  ) => void;
  readonly conv1x1_backprop_filter: (
    x: number,
    dy: number,
    dW: number,
    rows: number,
    ci: number,
    co: number,
  ) => void;
  readonly flip_transpose_filter: (
    src: number,
    dst: number,
    kh: number,
    kw: number,
    ci: number,
    co: number,
  ) => void;
  readonly max_pool_grad: (
    x: number,
    dy: number,
    dx: number,
    N: number,
    H: number,
    W: number,
    C: number,
    OH: number,
    OW: number,
    KH: number,
    KW: number,
    sh: number,
    sw: number,
    pt: number,
    pl: number,
  ) => void;
  readonly relu_grad: (x: number, dy: number, dx: number, n: number) => void;
  readonly sum_leading: (
    x: number,
    out: number,
    part: number,
    rows: number,
    c: number,
    scale: number,
  ) => void;
  readonly copy_into_columns: (
    src: number,
    dst: number,
    rows: number,
    cs: number,
    cd: number,
    off: number,
  ) => void;
  readonly bn_train_forward: (
    x: number,
    gamma: number,
    beta: number,
    y: number,
    mean: number,
    variance: number,
    invstd: number,
    acc: number,
    part: number,
    rows: number,
    c: number,
    eps: number,
  ) => void;
  readonly bn_train_backward: (
    x: number,
    dy: number,
    mean: number,
    invstd: number,
    gamma: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    acc: number,
    part: number,
    rows: number,
    c: number,
  ) => void;
  readonly matmul_bias: (
    x: number,
    w: number,
    bias: number,
    y: number,
    rows: number,
    k: number,
    co: number,
    hasBias: number,
  ) => void;
  readonly depthwise_forward: (
    x: number,
    w: number,
    bias: number,
    y: number,
    N: number,
    H: number,
    W: number,
    C: number,
    OH: number,
    OW: number,
    KH: number,
    KW: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    pt: number,
    pl: number,
    hasBias: number,
  ) => void;
  readonly copy_from_columns: (
    src: number,
    dst: number,
    rows: number,
    cs: number,
    cd: number,
    off: number,
  ) => void;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<object, GradKernelsModule>();

/** Our kernels bound to this backend's heap. */
export function gradKernels(backend: WasmBackendLike): GradKernelsModule {
  let mod = instances.get(backend.wasm);
  if (!mod) {
    compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(compiled, {
      env: { memory: backend.wasm.asm.memory },
    });
    mod = instance.exports as unknown as GradKernelsModule;
    instances.set(backend.wasm, mod);
  }
  return mod;
}

/** Heap byte offset of a float32 tensor held by the wasm backend. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor is not held by this wasm backend');
  if (t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  return data.memoryOffset;
}
