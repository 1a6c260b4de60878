/**
 * wasm forward kernels for the convolutions DARTS cells are made of, replacing tfjs-backend-wasm's
 * XNNPACK calls where ours are faster at these sizes (channels 16-256, maps 8x8-32x32):
 * Conv2D and FusedConv2D (linear activation) with a 1x1 stride-1 filter, a matrix product over
 * pixels (matmul_bias); DepthwiseConv2dNative with channel multiplier 1, any stride, dilation and
 * padding (depthwise_forward). Everything else goes to the kernel they wrap. The input gradients
 * computed as convolutions (input-grad-as-conv.ts) run through these too.
 */
import {
  Conv2D,
  DepthwiseConv2dNative,
  FusedConv2D,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, type ConvAttrsLike, type ConvGeometry } from './conv-geometry.js';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

/** The kernel functions built here (tests check that they are the registered ones). */
export const OUR_CONV_FORWARD_KERNELS = new WeakSet<KernelFunc>();

interface ConvArgs {
  inputs: {
    x: TensorInfo;
    filter: TensorInfo;
    bias?: TensorInfo;
    preluActivationWeights?: TensorInfo;
  };
  backend: WasmBackendLike;
  attrs: ConvAttrsLike & { activation?: string };
}

function isFloat(...ts: (TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t === undefined || t.dtype === 'float32');
}

/** The bias as a per-channel vector of `channels`, or undefined when it is anything else. */
function channelBias(bias: TensorInfo | undefined, channels: number): TensorInfo | undefined {
  if (!bias) return undefined;
  const size = bias.shape.reduce((a, d) => a * d, 1);
  return size === channels && bias.shape[bias.shape.length - 1] === channels ? bias : undefined;
}

function pointwise(g: ConvGeometry): boolean {
  return (
    g.KH === 1 &&
    g.KW === 1 &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.pt === 0 &&
    g.pl === 0 &&
    g.OH === g.H &&
    g.OW === g.W
  );
}

function makeConv2d(
  name: typeof Conv2D | typeof FusedConv2D,
  original: KernelConfig,
): KernelConfig {
  const fallback = original.kernelFunc;
  const kernelFunc = (args: ConvArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x, filter, bias, preluActivationWeights } = inputs;
    const usable =
      isFloat(x, filter, bias) &&
      preluActivationWeights === undefined &&
      (attrs.activation === undefined || attrs.activation === 'linear') &&
      (attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC') &&
      x.shape.length === 4 &&
      filter.shape.length === 4;
    if (usable) {
      const g = convGeometry(x.shape, filter.shape, attrs, false, name);
      const b = channelBias(bias, g.M);
      if (pointwise(g) && (bias === undefined || b !== undefined)) {
        const y = backend.makeOutput([g.N, g.OH, g.OW, g.M], 'float32');
        const rows = g.N * g.H * g.W;
        if (rows * g.M > 0)
          gradKernels(backend).matmul_bias(
            heapOffset(backend, x),
            heapOffset(backend, filter),
            b ? heapOffset(backend, b) : 0,
            heapOffset(backend, y),
            rows,
            g.C,
            g.M,
            b ? 1 : 0,
            0,
            0,
          );
        return y;
      }
    }
    return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  };
  OUR_CONV_FORWARD_KERNELS.add(kernelFunc as unknown as KernelFunc);
  return {
    kernelName: name,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

function makeDepthwise(original: KernelConfig): KernelConfig {
  const fallback = original.kernelFunc;
  const kernelFunc = (args: ConvArgs): TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x, filter } = inputs;
    if (
      isFloat(x, filter) &&
      (attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC') &&
      x.shape.length === 4 &&
      filter.shape.length === 4 &&
      filter.shape[3] === 1
    ) {
      const g = convGeometry(x.shape, filter.shape, attrs, true, DepthwiseConv2dNative);
      const y = backend.makeOutput([g.N, g.OH, g.OW, g.C], 'float32');
      if (g.N * g.OH * g.OW * g.C > 0)
        gradKernels(backend).depthwise_forward(
          heapOffset(backend, x),
          heapOffset(backend, filter),
          0,
          heapOffset(backend, y),
          g.N,
          g.H,
          g.W,
          g.C,
          g.OH,
          g.OW,
          g.KH,
          g.KW,
          g.sh,
          g.sw,
          g.dh,
          g.dw,
          g.pt,
          g.pl,
          0,
        );
      return y;
    }
    return fallback(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo;
  };
  OUR_CONV_FORWARD_KERNELS.add(kernelFunc as unknown as KernelFunc);
  return {
    kernelName: DepthwiseConv2dNative,
    backendName: 'wasm',
    setupFunc: original.setupFunc,
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

/** Our Conv2D, FusedConv2D and DepthwiseConv2dNative, each wrapping tfjs-backend-wasm's own. */
export function convForwardConfigs(
  conv2d: KernelConfig,
  fusedConv2d: KernelConfig,
  depthwise: KernelConfig,
): KernelConfig[] {
  return [
    makeConv2d(Conv2D, conv2d),
    makeConv2d(FusedConv2D, fusedConv2d),
    makeDepthwise(depthwise),
  ];
}
