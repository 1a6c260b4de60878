/**
 * Gradients of Conv2D and DepthwiseConv2dNative that accept dilation > 1, replacing tfjs-core's,
 * which refuse it (DARTS's dil_conv ops need it). On wasm our backprop kernels take the dilation
 * directly; on other backends (whose backprop kernels ignore it) the filter is dilated with zeros
 * and the dilation-1 kernels run. With dilation 1 they call exactly what tfjs-core's do.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  DepthwiseConv2dNative,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';

/** Backends whose conv backprop kernels honour a `dilations` attribute (wasm, with ours). */
const DILATION_AWARE_BACKENDS = new Set<string>();

export function markDilationAwareBackend(name: string): void {
  DILATION_AWARE_BACKENDS.add(name);
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: unknown;
  dilations?: number | [number, number];
  dimRoundingMode?: string;
  dataFormat?: string;
}

function pair(v: number | [number, number] | undefined): [number, number] {
  if (v === undefined) return [1, 1];
  return typeof v === 'number' ? [v, v] : v;
}

function run(name: string, inputs: Record<string, Tensor>, attrs: object): Tensor {
  return tf.engine().runKernel(name, inputs, attrs as unknown as NamedAttrMap) as Tensor;
}

/** [KH,KW,A,B] -> [(KH-1)dh+1, (KW-1)dw+1, A, B] with zeros between the taps. */
function dilateFilter(filter: Tensor4D, dh: number, dw: number): Tensor4D {
  const [KH, KW, A, B] = filter.shape;
  return tf.tidy(() => {
    const spread = tf.pad(tf.reshape(filter, [KH, 1, KW, 1, A, B]), [
      [0, 0],
      [0, dh - 1],
      [0, 0],
      [0, dw - 1],
      [0, 0],
      [0, 0],
    ]);
    const full = tf.reshape(spread, [KH * dh, KW * dw, A, B]);
    return tf.slice(full, [0, 0, 0, 0], [(KH - 1) * dh + 1, (KW - 1) * dw + 1, A, B]) as Tensor4D;
  });
}

function makeGradConfig(kernelName: string, inputKernel: string, filterKernel: string): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const { strides, pad, dimRoundingMode, dilations, dataFormat } =
        attrs as unknown as ConvAttrs;
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      const g = dy as Tensor4D;
      const [dh, dw] = pair(dilations);
      const common = { strides, pad, dimRoundingMode, ...(dataFormat ? { dataFormat } : {}) };
      if ((dh === 1 && dw === 1) || DILATION_AWARE_BACKENDS.has(tf.getBackend())) {
        const d: [number, number] = [dh, dw];
        return {
          x: () =>
            run(inputKernel, { dy: g, filter }, { ...common, dilations: d, inputShape: x.shape }),
          filter: () =>
            run(filterKernel, { x, dy: g }, { ...common, dilations: d, filterShape: filter.shape }),
        };
      }
      const one: [number, number] = [1, 1];
      return {
        x: () =>
          tf.tidy(() =>
            run(
              inputKernel,
              { dy: g, filter: dilateFilter(filter, dh, dw) },
              { ...common, dilations: one, inputShape: x.shape },
            ),
          ),
        filter: () =>
          tf.tidy(() => {
            const [KH, KW, A, B] = filter.shape;
            const effShape = [(KH - 1) * dh + 1, (KW - 1) * dw + 1, A, B];
            const full = run(
              filterKernel,
              { x, dy: g },
              { ...common, dilations: one, filterShape: effShape },
            );
            return tf.stridedSlice(full, [0, 0, 0, 0], effShape, [dh, dw, 1, 1]);
          }),
      };
    },
  };
}

export const conv2dGradConfig = makeGradConfig(Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter);
export const depthwiseConv2dGradConfig = makeGradConfig(
  DepthwiseConv2dNative,
  DepthwiseConv2dNativeBackpropInput,
  DepthwiseConv2dNativeBackpropFilter,
);
