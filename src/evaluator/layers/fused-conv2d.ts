/**
 * A convolution with a per-channel bias in one kernel (tfjs's FusedConv2D, linear activation:
 * XNNPACK adds the bias while writing the output), used where an inference-mode BatchNorm folds
 * into the conv before it: conv(x, w * scale) + shift. tfjs-core's tf.fused.conv2d computes the
 * gradients of all three inputs whatever is asked for (a custom gradient), so a PGD step would
 * pay for a filter gradient it never uses; here the kernel runs directly, with a registered
 * gradient that tfjs's tape calls only for the inputs on the path to what is differentiated.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedConv2D,
  type GradConfig,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';

type Pad = number | [[number, number], [number, number], [number, number], [number, number]];

interface FusedConvAttrs {
  strides: [number, number];
  pad: Pad;
  dataFormat: 'NHWC';
  dilations: [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation: 'linear';
}

function run(name: string, inputs: Record<string, Tensor>, attrs: object): Tensor {
  return tf.engine().runKernel(name, inputs, attrs as unknown as NamedAttrMap) as Tensor;
}

export const fusedConv2dGradConfig: GradConfig = {
  kernelName: FusedConv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const a = attrs as unknown as FusedConvAttrs;
    if ((a.activation ?? 'linear') !== 'linear') {
      throw new Error(`FusedConv2D gradient: only the linear activation, got ${a.activation}`);
    }
    const [dh, dw] = a.dilations ?? [1, 1];
    if (dh !== 1 || dw !== 1) throw new Error('FusedConv2D gradient: only dilation 1');
    const [x, filter] = saved as [Tensor4D, Tensor4D];
    const g = dy as Tensor4D;
    const common = {
      strides: a.strides,
      pad: a.pad,
      dataFormat: 'NHWC',
      dimRoundingMode: a.dimRoundingMode,
    };
    return {
      x: () => run(Conv2DBackpropInput, { dy: g, filter }, { ...common, inputShape: x.shape }),
      filter: () =>
        run(Conv2DBackpropFilter, { x, dy: g }, { ...common, filterShape: filter.shape }),
      bias: () => tf.sum(g, [0, 1, 2]),
    };
  },
};

/** conv(x, filter) + bias[c] in one kernel, differentiable (registers its gradient on first use). */
export function conv2dWithBias(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  strides: [number, number],
  pad: Pad,
): tf.Tensor4D {
  if (!tf.getGradient(FusedConv2D)) tf.registerGradient(fusedConv2dGradConfig);
  const attrs: FusedConvAttrs = {
    strides,
    pad,
    dataFormat: 'NHWC',
    dilations: [1, 1],
    activation: 'linear',
  };
  // wasm's FusedConv2D checks the rank of the bias's buffer, which a reshaped or unstacked view
  // (sharing a [1, C] buffer) does not change: give it a buffer of its own (C elements).
  const ownBias = tf.add(bias, 0) as tf.Tensor1D;
  return run(FusedConv2D, { x, filter, bias: ownBias }, attrs) as tf.Tensor4D;
}
