/**
 * A DARTS cell (model.py's Cell): preprocess the two inputs to C channels, then each intermediate
 * node sums two ops applied to earlier states, and the output concatenates the `*_concat` states.
 * In a reduction cell the ops reading the two inputs have stride 2.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Genotype } from '../core/genotype.js';
import { FactorizedReduce } from './layers/factorized-reduce.js';
import type { ForwardContext, Layer, Shape } from './layers/layer.js';
import type { ParameterStore } from './layers/parameter-store.js';
import { reluConvBn } from './layers/relu-conv-bn.js';
import { isIdentityOp, OPS } from './operations.js';

export class Cell {
  readonly outShape: Shape;
  private readonly preprocess0: Layer;
  private readonly preprocess1: Layer;
  private readonly ops: Layer[] = [];
  private readonly inputs: number[] = [];
  private readonly concat: number[];

  constructor(
    store: ParameterStore,
    genotype: Genotype,
    prevPrevShape: Shape,
    prevShape: Shape,
    channels: number,
    reduction: boolean,
    reductionPrev: boolean,
  ) {
    this.preprocess0 = reductionPrev
      ? new FactorizedReduce(store, 'preprocess0', prevPrevShape, channels)
      : reluConvBn(store, 'preprocess0', prevPrevShape, channels, 1, 1, 0);
    this.preprocess1 = reluConvBn(store, 'preprocess1', prevShape, channels, 1, 1, 0);
    const edges = reduction ? genotype.reduce : genotype.normal;
    this.concat = [...(reduction ? genotype.reduce_concat : genotype.normal_concat)];
    const shapes: Shape[] = [this.preprocess0.outShape, this.preprocess1.outShape];
    if (!sameShape(shapes[0] as Shape, shapes[1] as Shape)) {
      throw new RangeError(
        `cell inputs disagree after preprocessing: ${shapes[0]?.join('x')} vs ${shapes[1]?.join('x')}`,
      );
    }
    store.scoped('_ops', () => {
      for (let k = 0; k < edges.length; k += 2) {
        let nodeShape: Shape | undefined;
        for (const e of [k, k + 1]) {
          const [name, input] = edges[e] as readonly [keyof typeof OPS, number];
          const inShape = shapes[input];
          if (!inShape)
            throw new RangeError(`edge ${e} reads state ${input}, which does not exist yet`);
          const stride = reduction && input < 2 ? 2 : 1;
          const op = OPS[name](store, String(e), inShape, stride);
          if (nodeShape && !sameShape(nodeShape, op.outShape)) {
            throw new RangeError(`node ${k / 2} sums tensors of different shapes`);
          }
          nodeShape = op.outShape;
          this.ops.push(op);
          this.inputs.push(input);
        }
        shapes.push(nodeShape as Shape);
      }
    });
    const first = shapes[this.concat[0] as number] as Shape;
    this.outShape = [first[0], first[1], channels * this.concat.length];
  }

  apply(s0: tf.Tensor4D, s1: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const states: tf.Tensor4D[] = [
      this.preprocess0.apply(s0, ctx),
      this.preprocess1.apply(s1, ctx),
    ];
    const dropPath = ctx.training && ctx.dropPathProb > 0;
    for (let k = 0; k < this.ops.length; k += 2) {
      const h = [k, k + 1].map((e) => {
        const op = this.ops[e] as Layer;
        let y = op.apply(states[this.inputs[e] as number] as tf.Tensor4D, ctx);
        if (dropPath && !isIdentityOp(op)) y = tf.mul(y, ctx.dropPathMask(y.shape[0]));
        return y;
      });
      states.push(tf.add(h[0] as tf.Tensor4D, h[1] as tf.Tensor4D));
    }
    return tf.concat(
      this.concat.map((i) => states[i] as tf.Tensor4D),
      3,
    );
  }
}

function sameShape(a: Shape, b: Shape): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}
