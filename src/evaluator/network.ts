/**
 * DARTS's NetworkCIFAR (cnn/model.py): a 3x3 conv stem with 3C channels + BN, `layers` cells with
 * reduction cells (channels doubled) at layers//3 and 2*layers//3, global average pooling and a
 * linear classifier; optionally DARTS's auxiliary head after cell 2*layers//3 (training only).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Genotype } from '../core/genotype.js';
import { AuxiliaryHead } from './auxiliary-head.js';
import { Cell } from './cell.js';
import { BatchNorm } from './layers/batch-norm.js';
import { Conv2d } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import type { ForwardContext, Shape } from './layers/layer.js';
import type { ParameterStore } from './layers/parameter-store.js';
import { Sequential } from './layers/sequential.js';
import type { NetworkBody } from './model.js';

export const STEM_MULTIPLIER = 3;

export interface NetworkCifarOptions {
  channels: number;
  layers: number;
  numClasses: number;
  inputShape: Shape;
  auxiliary: boolean;
}

export class NetworkCifar implements NetworkBody {
  private readonly stem: Sequential;
  private readonly cells: Cell[] = [];
  private readonly classifier: Dense;
  private readonly auxiliaryHead?: AuxiliaryHead;
  private readonly auxiliaryAfter: number;

  constructor(store: ParameterStore, genotype: Genotype, options: NetworkCifarOptions) {
    const { channels: C, layers, numClasses, inputShape } = options;
    const stemChannels = STEM_MULTIPLIER * C;
    this.stem = store.scoped('stem', () =>
      new Sequential(inputShape)
        .add((s) => new Conv2d(store, '0', s, { outChannels: stemChannels, kernel: 3, padding: 1 }))
        .add((s) => new BatchNorm(store, '1', s)),
    );
    let prevPrev = this.stem.outShape;
    let prev = this.stem.outShape;
    let current = C;
    let reductionPrev = false;
    this.auxiliaryAfter = Math.floor((2 * layers) / 3);
    for (let i = 0; i < layers; i++) {
      const reduction = i === Math.floor(layers / 3) || i === Math.floor((2 * layers) / 3);
      if (reduction) current *= 2;
      const cell = store.scoped(`cells.${i}`, () => {
        try {
          return new Cell(store, genotype, prevPrev, prev, current, reduction, reductionPrev);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          throw new RangeError(`cell ${i}: ${why}`);
        }
      });
      this.cells.push(cell);
      reductionPrev = reduction;
      prevPrev = prev;
      prev = cell.outShape;
      if (options.auxiliary && i === this.auxiliaryAfter) {
        this.auxiliaryHead = store.uncounted(() => new AuxiliaryHead(store, prev, numClasses));
      }
    }
    this.classifier = new Dense(store, 'classifier', prev[2], numClasses);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): { logits: tf.Tensor2D; auxLogits?: tf.Tensor2D } {
    let s0 = this.stem.apply(x, ctx);
    let s1 = s0;
    let auxLogits: tf.Tensor2D | undefined;
    this.cells.forEach((cell, i) => {
      const next = cell.apply(s0, s1, ctx);
      s0 = s1;
      s1 = next;
      if (
        this.auxiliaryHead &&
        ctx.training &&
        ctx.auxiliary !== false &&
        i === this.auxiliaryAfter
      ) {
        auxLogits = this.auxiliaryHead.apply(s1, ctx);
      }
    });
    const logits = this.classifier.apply(tf.mean(s1, [1, 2]) as tf.Tensor2D);
    return auxLogits ? { logits, auxLogits } : { logits };
  }
}
