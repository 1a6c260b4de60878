/**
 * DARTS's ReLUConvBN: ReLU, a dense conv without bias, affine BatchNorm. The ReLU and the conv are
 * one layer (ReluConv2d): on wasm a 1x1 stride-1 conv runs with the ReLU fused into its kernels.
 */
import { BatchNorm } from './batch-norm.js';
import type { Shape } from './layer.js';
import type { ParameterStore } from './parameter-store.js';
import { ReluConv2d } from './relu-conv.js';
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
      .add((s) => new ReluConv2d(store, 'conv', s, { outChannels, kernel, stride, padding }))
      .add((s) => new BatchNorm(store, 'bn', s)),
  );
}
