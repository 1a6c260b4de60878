/**
 * DARTS's AuxiliaryHeadCIFAR (training only): ReLU, 5x5 average pool stride 3 (no padding), 1x1
 * conv to 128 + BN + ReLU, 2x2 conv to 768 + BN + ReLU, linear classifier. DARTS assumes an 8x8
 * input (giving 1x1 before the classifier); for other sizes the pool and conv kernels shrink to fit
 * and the features are averaged over space, so 8x8 inputs get exactly DARTS's head.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from './layers/batch-norm.js';
import { Conv2d } from './layers/conv2d.js';
import { Dense } from './layers/dense.js';
import type { ForwardContext, Layer, Shape } from './layers/layer.js';
import type { ParameterStore } from './layers/parameter-store.js';
import { AvgPoolExcludePad } from './layers/pools.js';
import { Relu } from './layers/relu.js';
import { Sequential } from './layers/sequential.js';

export class AuxiliaryHead {
  private readonly features: Layer;
  private readonly classifier: Dense;

  constructor(store: ParameterStore, inShape: Shape, numClasses: number) {
    const pool = Math.min(5, inShape[0], inShape[1]);
    [this.features, this.classifier] = store.scoped('auxiliary_head', () => {
      const features = new Sequential(inShape)
        .add((s) => new Relu(s))
        .add((s) => new AvgPoolExcludePad(store, s, pool, 3, 0))
        .add((s) => new Conv2d(store, 'features.2', s, { outChannels: 128, kernel: 1 }))
        .add((s) => new BatchNorm(store, 'features.3', s))
        .add((s) => new Relu(s))
        .add(
          (s) =>
            new Conv2d(store, 'features.5', s, {
              outChannels: 768,
              kernel: Math.min(2, s[0], s[1]),
            }),
        )
        .add((s) => new BatchNorm(store, 'features.6', s))
        .add((s) => new Relu(s));
      return [features, new Dense(store, 'classifier', 768, numClasses)] as const;
    });
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor2D {
    const f = this.features.apply(x, ctx);
    return this.classifier.apply(tf.mean(f, [1, 2]) as tf.Tensor2D);
  }
}
