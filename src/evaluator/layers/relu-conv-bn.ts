/** DARTS's ReLUConvBN: ReLU, a dense conv without bias, affine BatchNorm. */
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import type { Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { Relu } from './relu.js';
import { Sequential } from './sequential.js';

export function reluConvBn(
  store: ParameterStore,
  name: string,
  inShape: Shape,
  outChannels: number,
  kernel: number,
  stride: number,
  padding: number,
): Sequential {
  return store.scoped(name, () =>
    new Sequential(inShape)
      .add((s) => new Relu(s))
      .add((s) => new Conv2d(store, 'conv', s, { outChannels, kernel, stride, padding }))
      .add((s) => new BatchNorm(store, 'bn', s)),
  );
}
