/**
 * The input gradient of a stride-1 convolution is itself a convolution: of dy with the filter
 * flipped in space and with input/output channels swapped, padded by (effective kernel - 1 -
 * padding). Run that way it goes through tfjs-backend-wasm's XNNPACK Conv2D or depthwise kernel,
 * faster than our gather kernels (which still handle strides > 1 and channel multipliers > 1).
 */
import {
  Conv2D,
  DepthwiseConv2dNative,
  type KernelFunc,
  type TensorInfo,
  getKernel,
} from '@tensorflow/tfjs-core';
import type { ConvGeometry } from './conv-geometry.js';
import { gradKernels, heapOffset, type WasmBackendLike } from './kernels-module.js';

/** dx as a forward convolution of dy, or undefined when the geometry does not allow it. */
export function inputGradAsConv(
  backend: WasmBackendLike,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  depthwise: boolean,
): TensorInfo | undefined {
  if (g.sh !== 1 || g.sw !== 1 || (depthwise && g.M !== 1)) return undefined;
  const forward = getKernel(depthwise ? DepthwiseConv2dNative : Conv2D, 'wasm');
  if (!forward) return undefined;
  const effH = g.dh * (g.KH - 1);
  const effW = g.dw * (g.KW - 1);
  const top = effH - g.pt;
  const bottom = g.H + g.pt - g.OH;
  const left = effW - g.pl;
  const right = g.W + g.pl - g.OW;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) return undefined;
  const cin = g.C;
  const cout = depthwise ? 1 : g.M;
  const flipped = backend.makeOutput(
    depthwise ? [g.KH, g.KW, cin, 1] : [g.KH, g.KW, cout, cin],
    'float32',
  );
  try {
    gradKernels(backend).flip_transpose_filter(
      heapOffset(backend, filter),
      heapOffset(backend, flipped),
      g.KH,
      g.KW,
      cin,
      cout,
    );
    const dx = forward.kernelFunc({
      inputs: { x: dy, filter: flipped },
      backend: backend as never,
      attrs: {
        strides: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dilations: [g.dh, g.dw],
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
      } as never,
    } as Parameters<KernelFunc>[0]) as TensorInfo;
    const [n, h, w, c] = dx.shape;
    if (n !== g.N || h !== g.H || w !== g.W || c !== g.C) {
      backend.disposeData(dx.dataId);
      return undefined;
    }
    return dx;
  } finally {
    backend.disposeData(flipped.dataId);
  }
}
