/**
 * DARTS's conv_7x1_1x7 (from NASNet): ReLU, a 1x7 conv with stride (1, s) and padding (0, 3), a
 * 7x1 conv with stride (s, 1) and padding (3, 0), BatchNorm; both convs dense, without bias.
 */
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import type { Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { Relu } from './relu.js';
import { Sequential } from './sequential.js';

export function conv7x1x1x7(
  store: ParameterStore,
  name: string,
  inShape: Shape,
  stride: number,
): Sequential {
  const c = inShape[2];
  return store.scoped(name, () =>
    new Sequential(inShape)
      .add((s) => new Relu(s))
      .add(
        (s) =>
          new Conv2d(store, '1', s, {
            outChannels: c,
            kernel: [1, 7],
            stride: [1, stride],
            padding: [0, 3],
          }),
      )
      .add(
        (s) =>
          new Conv2d(store, '2', s, {
            outChannels: c,
            kernel: [7, 1],
            stride: [stride, 1],
            padding: [3, 0],
          }),
      )
      .add((s) => new BatchNorm(store, '3', s)),
  );
}
