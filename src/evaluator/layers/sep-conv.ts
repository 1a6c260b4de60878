/**
 * DARTS's SepConv: twice (ReLU, depthwise kxk, pointwise 1x1, BatchNorm); only the first depthwise
 * conv is strided.
 */
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { DepthwiseConv2d } from './depthwise-conv2d.js';
import type { Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { Relu } from './relu.js';
import { Sequential } from './sequential.js';

export function sepConv(
  store: ParameterStore,
  name: string,
  inShape: Shape,
  outChannels: number,
  kernel: number,
  stride: number,
  padding: number,
): Sequential {
  const c = inShape[2];
  return store.scoped(name, () =>
    new Sequential(inShape)
      .add((s) => new Relu(s))
      .add((s) => new DepthwiseConv2d(store, '1', s, { kernel, stride, padding }))
      .add((s) => new Conv2d(store, '2', s, { outChannels: c, kernel: 1 }))
      .add((s) => new BatchNorm(store, '3', s))
      .add((s) => new Relu(s))
      .add((s) => new DepthwiseConv2d(store, '5', s, { kernel, stride: 1, padding }))
      .add((s) => new Conv2d(store, '6', s, { outChannels, kernel: 1 }))
      .add((s) => new BatchNorm(store, '7', s)),
  );
}
