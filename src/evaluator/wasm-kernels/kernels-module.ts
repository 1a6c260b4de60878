/**
 * The bridge to our compiled kernels (kernels.c, embedded as base64 in kernels-wasm.ts and, built
 * with relaxed SIMD, in kernels-relaxed-wasm.ts). The module imports the wasm backend's own
 * memory, so its functions take tensors' heap offsets directly: no copies in or out. One instance
 * per wasm backend instance and build, created on first use.
 *
 * Which build runs (the kernel variant) is chosen once per thread by `selectKernelVariant`:
 * 'relaxed-simd' (f32x4.relaxed_madd, a fused multiply-add where the CPU has FMA) when the engine
 * accepts it, else 'simd128'. Node 20's V8 accepts relaxed SIMD only behind the V8 flag
 * --experimental-wasm-relaxed-simd (on by default from Node 22): `selectKernelVariant` sets it
 * with v8.setFlagsFromString before compiling. V8 flags are process-wide, so worker threads see
 * it too, and every process the project starts selects its variant itself when its backend starts
 * (no NODE_OPTIONS needed). Env ROBUST_NAS_WASM_KERNELS=simd128|relaxed-simd forces a variant
 * (a forced relaxed-simd the engine refuses is an error), auto or unset picks.
 */
import { setFlagsFromString } from 'node:v8';
import type { DataId, TensorInfo } from '@tensorflow/tfjs-core';
import { KERNELS_RELAXED_WASM_BASE64 } from './kernels-relaxed-wasm.js';
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
  /** reluX 1: x enters as relu(x) (a ReLU fused into the convolution). */
  readonly conv1x1_backprop_filter: (
    x: number,
    dy: number,
    dW: number,
    rows: number,
    ci: number,
    co: number,
    reluX: number,
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
  readonly max_pool_argmax: (
    x: number,
    y: number,
    arg: number,
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
  readonly max_pool_grad_argmax: (
    arg: number,
    dy: number,
    dx: number,
    N: number,
    HW: number,
    OHW: number,
    C: number,
  ) => void;
  /** MADD(a, b, c) on lane 0 of splats: a*b + c, rounded once where the build fuses it. */
  readonly madd_probe: (a: number, b: number, c: number) => number;
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
    /** 1: x enters as relu(x). */
    reluX: number,
    /** Heap offset of a tensor shaped like y (0: none): y is 0 wherever it is not > 0. */
    mask: number,
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

export const KERNEL_VARIANTS = ['simd128', 'relaxed-simd'] as const;
export type KernelVariant = (typeof KERNEL_VARIANTS)[number];

/** The environment variable that forces a kernel variant (auto, simd128 or relaxed-simd). */
export const KERNELS_ENV_VAR = 'ROBUST_NAS_WASM_KERNELS';

/** The V8 flag Node 20 needs for relaxed SIMD (default on from Node 22 / V8 11.4). */
export const RELAXED_SIMD_V8_FLAG = '--experimental-wasm-relaxed-simd';

export interface KernelVariantInfo {
  readonly variant: KernelVariant;
  /**
   * Whether MADD rounds once (a fused multiply-add) in this variant on this machine: true for
   * relaxed-simd on a CPU with FMA, false for simd128 (and for relaxed-simd where V8 lowers
   * relaxed_madd to a multiply then an add, which gives simd128's bits).
   */
  readonly fma: boolean;
  /** Whether the engine accepts the relaxed-SIMD build (after enabling the V8 flag if needed). */
  readonly relaxedSupported: boolean;
  /** Whether this process had to set RELAXED_SIMD_V8_FLAG. */
  readonly flagSet: boolean;
}

const BYTES: Record<KernelVariant, string> = {
  simd128: KERNELS_WASM_BASE64,
  'relaxed-simd': KERNELS_RELAXED_WASM_BASE64,
};

const compiled = new Map<KernelVariant, WebAssembly.Module>();
const instances: Record<KernelVariant, WeakMap<object, GradKernelsModule>> = {
  simd128: new WeakMap(),
  'relaxed-simd': new WeakMap(),
};
let selected: KernelVariantInfo | undefined;
let active: KernelVariant | undefined;
let flagSet = false;
let relaxedBytes: Buffer<ArrayBuffer> | undefined;

function bytesOf(variant: KernelVariant): Buffer<ArrayBuffer> {
  if (variant === 'relaxed-simd') return (relaxedBytes ??= Buffer.from(BYTES[variant], 'base64'));
  return Buffer.from(BYTES[variant], 'base64');
}

/** Whether this engine accepts the relaxed-SIMD build, setting V8's flag first if it must. */
export function relaxedSimdSupported(): boolean {
  const bytes = bytesOf('relaxed-simd');
  if (WebAssembly.validate(bytes)) return true;
  if (!flagSet) {
    setFlagsFromString(RELAXED_SIMD_V8_FLAG);
    flagSet = true;
  }
  return WebAssembly.validate(bytes);
}

function moduleOf(variant: KernelVariant): WebAssembly.Module {
  let m = compiled.get(variant);
  if (!m) {
    if (variant === 'relaxed-simd' && !relaxedSimdSupported())
      throw new Error(
        `this engine (Node ${process.versions.node}) does not accept relaxed SIMD wasm even with ${RELAXED_SIMD_V8_FLAG}`,
      );
    m = new WebAssembly.Module(bytesOf(variant));
    compiled.set(variant, m);
  }
  return m;
}

/** Parses a kernel variant choice: 'auto' (also unset or empty), simd128 or relaxed-simd. */
export function parseKernelVariant(value: string | undefined): KernelVariant | 'auto' {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'auto') return 'auto';
  if ((KERNEL_VARIANTS as readonly string[]).includes(v)) return v as KernelVariant;
  throw new Error(
    `${KERNELS_ENV_VAR} must be auto, ${KERNEL_VARIANTS.join(' or ')}, got ${JSON.stringify(value)}`,
  );
}

/** The variant requested by env ROBUST_NAS_WASM_KERNELS. */
export function requestedKernelVariant(): KernelVariant | 'auto' {
  return parseKernelVariant(process.env[KERNELS_ENV_VAR]);
}

/** Whether MADD rounds once in `variant` here: 1+2^-23 squared minus 1+2^-22 is 2^-46 fused, 0 not. */
function probeFma(variant: KernelVariant): boolean {
  const memory = new WebAssembly.Memory({ initial: 16 });
  const probe = new WebAssembly.Instance(moduleOf(variant), { env: { memory } })
    .exports as unknown as GradKernelsModule;
  const a = 1 + 2 ** -23;
  return probe.madd_probe(a, a, -(1 + 2 ** -22)) !== 0;
}

/**
 * Chooses the kernel variant for this thread (once; later calls return the same answer):
 * `requested` (default: env ROBUST_NAS_WASM_KERNELS, else auto). A forced relaxed-simd the engine
 * does not accept throws; auto falls back to simd128.
 */
export function selectKernelVariant(
  requested: KernelVariant | 'auto' = requestedKernelVariant(),
): KernelVariantInfo {
  if (selected && (requested === 'auto' || requested === selected.variant)) return selected;
  const relaxedSupported = relaxedSimdSupported();
  if (requested === 'relaxed-simd' && !relaxedSupported)
    throw new Error(
      `${KERNELS_ENV_VAR}=relaxed-simd, but this engine (Node ${process.versions.node}) does not accept relaxed SIMD wasm even with ${RELAXED_SIMD_V8_FLAG}`,
    );
  const variant: KernelVariant =
    requested === 'auto' ? (relaxedSupported ? 'relaxed-simd' : 'simd128') : requested;
  selected = { variant, fma: probeFma(variant), relaxedSupported, flagSet };
  active = variant;
  return selected;
}

/** The variant our kernels run with (selecting it now if nothing has). */
export function activeKernelVariant(): KernelVariant {
  return (active ??= selectKernelVariant().variant);
}

/**
 * Switches the variant the registered kernels use from their next call on: for A/B benchmarks
 * and tests in one process. Not for runs (a run's results must come from one variant).
 */
export function useKernelVariant(variant: KernelVariant): void {
  moduleOf(variant);
  active = variant;
}

/** One line: the variant and whether its multiply-add is fused. */
export function describeKernelVariant(info: KernelVariantInfo): string {
  return `${info.variant}${info.variant === 'relaxed-simd' ? (info.fma ? ' FMA' : ' without FMA on this CPU') : ''}`;
}

/**
 * The variant as stored with an evaluation: 'simd128', 'relaxed-simd-fma' or 'relaxed-simd-nofma'
 * (the last computes simd128's bits: V8 lowers relaxed_madd to a multiply and an add).
 */
export function kernelVariantLabel(info: KernelVariantInfo): string {
  return info.variant === 'simd128' ? 'simd128' : `relaxed-simd-${info.fma ? 'fma' : 'nofma'}`;
}

/** Our kernels of one variant bound to this backend's heap. */
export function kernelsOf(backend: WasmBackendLike, variant: KernelVariant): GradKernelsModule {
  const byBackend = instances[variant];
  let mod = byBackend.get(backend.wasm);
  if (!mod) {
    const instance = new WebAssembly.Instance(moduleOf(variant), {
      env: { memory: backend.wasm.asm.memory },
    });
    mod = instance.exports as unknown as GradKernelsModule;
    byBackend.set(backend.wasm, mod);
  }
  return mod;
}

/** Our kernels (the active variant) bound to this backend's heap. */
export function gradKernels(backend: WasmBackendLike): GradKernelsModule {
  return kernelsOf(backend, active ?? activeKernelVariant());
}

/** Heap byte offset of a float32 tensor held by the wasm backend. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor is not held by this wasm backend');
  if (t.dtype !== 'float32') throw new Error(`expected a float32 tensor, got ${t.dtype}`);
  return data.memoryOffset;
}
