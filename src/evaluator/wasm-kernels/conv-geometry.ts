/**
 * Turns tfjs convolution attributes into the geometry our wasm kernels take (NHWC only).
 */
import { backend_util } from '@tensorflow/tfjs-core';

type Shape4 = [number, number, number, number];

export interface ConvGeometry {
  readonly N: number;
  readonly H: number;
  readonly W: number;
  /** Input channels. */
  readonly C: number;
  /** Depthwise: channel multiplier. Regular conv: output channels. */
  readonly M: number;
  readonly OH: number;
  readonly OW: number;
  readonly KH: number;
  readonly KW: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  readonly pt: number;
  readonly pl: number;
}

export interface ConvAttrsLike {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

export function convGeometry(
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrsLike,
  depthwise: boolean,
  kernelName: string,
): ConvGeometry {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')
    throw new Error(`${kernelName} on wasm supports only NHWC data, got ${attrs.dataFormat}`);
  if (inShape.length !== 4 || filterShape.length !== 4)
    throw new Error(`${kernelName} expects rank-4 input and filter`);
  const info = backend_util.computeConv2DInfo(
    [...inShape] as Shape4,
    [...filterShape] as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
  return {
    N: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    M: depthwise ? info.outChannels / info.inChannels : info.outChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    KH: info.filterHeight,
    KW: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
  };
}

/** The geometry as the argument list our kernels take after the three pointers. */
export function geometryArgs(
  g: ConvGeometry,
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
  number,
  number,
  number,
] {
  return [g.N, g.H, g.W, g.C, g.M, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl];
}
