/** DARTS's DilConv: ReLU, depthwise kxk with dilation 2, pointwise 1x1, BatchNorm. */
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { DepthwiseConv2d } from './depthwise-conv2d.js';
import type { Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { Relu } from './relu.js';
import { Sequential } from './sequential.js';

export function dilConv(
  store: ParameterStore,
  name: string,
  inShape: Shape,
  outChannels: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation: number,
): Sequential {
  return store.scoped(name, () =>
    new Sequential(inShape)
      .add((s) => new Relu(s))
      .add((s) => new DepthwiseConv2d(store, '1', s, { kernel, stride, padding, dilation }))
      .add((s) => new Conv2d(store, '2', s, { outChannels, kernel: 1 }))
      .add((s) => new BatchNorm(store, '3', s)),
  );
}
