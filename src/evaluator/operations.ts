/**
 * The operation table, as DARTS's operations.py OPS: each genotype op name -> a constructor taking
 * the input shape (channels C in = C out) and the stride (2 on a reduction cell's edges from its
 * two inputs, else 1).
 */
import type { OpName } from '../core/genotype.js';
import { conv7x1x1x7 } from './layers/conv-7x1-1x7.js';
import { dilConv } from './layers/dil-conv.js';
import { FactorizedReduce } from './layers/factorized-reduce.js';
import { Identity } from './layers/identity.js';
import type { Layer, Shape } from './layers/layer.js';
import type { ParameterStore } from './layers/parameter-store.js';
import { AvgPoolExcludePad, MaxPool } from './layers/pools.js';
import { sepConv } from './layers/sep-conv.js';
import { Zero } from './layers/zero.js';

export type OpFactory = (
  store: ParameterStore,
  name: string,
  inShape: Shape,
  stride: number,
) => Layer;

export const OPS: Readonly<Record<OpName, OpFactory>> = {
  none: (_store, _name, s, stride) => new Zero(s, stride),
  avg_pool_3x3: (store, _name, s, stride) => new AvgPoolExcludePad(store, s, 3, stride, 1),
  max_pool_3x3: (_store, _name, s, stride) => new MaxPool(s, 3, stride, 1),
  skip_connect: (store, name, s, stride) =>
    stride === 1 ? new Identity(s) : new FactorizedReduce(store, name, s, s[2]),
  sep_conv_3x3: (store, name, s, stride) => sepConv(store, name, s, s[2], 3, stride, 1),
  sep_conv_5x5: (store, name, s, stride) => sepConv(store, name, s, s[2], 5, stride, 2),
  sep_conv_7x7: (store, name, s, stride) => sepConv(store, name, s, s[2], 7, stride, 3),
  dil_conv_3x3: (store, name, s, stride) => dilConv(store, name, s, s[2], 3, stride, 2, 2),
  dil_conv_5x5: (store, name, s, stride) => dilConv(store, name, s, s[2], 5, stride, 4, 2),
  conv_7x1_1x7: (store, name, s, stride) => conv7x1x1x7(store, name, s, stride),
};

/** Whether DARTS's drop-path applies to an op's output (all but the identity). */
export function isIdentityOp(layer: Layer): boolean {
  return layer instanceof Identity;
}
