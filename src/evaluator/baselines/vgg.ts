/**
 * VGG-16 with BatchNorm, CIFAR variant as in kuangliu/pytorch-cifar (models/vgg.py, cfg 'VGG16'):
 * 13 3x3 convs WITH bias (nn.Conv2d's default there), each + BN + ReLU, max pools 2x2 after
 * stages, and a single linear classifier 512 -> classes on the 1x1x512 features (no 4096-wide
 * fully connected layers). Features are averaged over space before the classifier (identical at
 * 32x32, where they are 1x1); a max pool that would shrink a side below 1 is skipped (small
 * inputs such as 28x28). `width` scales every channel count.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from '../layers/batch-norm.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import type { ForwardContext, Layer, Shape } from '../layers/layer.js';
import type { ParameterStore } from '../layers/parameter-store.js';
import { Identity } from '../layers/identity.js';
import { MaxPool } from '../layers/pools.js';
import { Relu } from '../layers/relu.js';
import { Sequential } from '../layers/sequential.js';
import type { ModelOutput, NetworkBody } from '../model.js';
import { scaledChannels } from './resnet.js';

const VGG16: readonly (number | 'M')[] = [
  64,
  64,
  'M',
  128,
  128,
  'M',
  256,
  256,
  256,
  'M',
  512,
  512,
  512,
  'M',
  512,
  512,
  512,
  'M',
];

export class Vgg16 implements NetworkBody {
  private readonly features: Layer;
  private readonly classifier: Dense;

  constructor(store: ParameterStore, inputShape: Shape, numClasses: number, width: number) {
    const features = new Sequential(inputShape);
    VGG16.forEach((v, i) => {
      if (v === 'M') {
        features.add((s) => (s[0] >= 2 && s[1] >= 2 ? new MaxPool(s, 2, 2, 0) : new Identity(s)));
        return;
      }
      const out = scaledChannels(v, width);
      store.scoped(`features.${i}`, () => {
        features
          .add(
            (s) =>
              new Conv2d(store, 'conv', s, { outChannels: out, kernel: 3, padding: 1, bias: true }),
          )
          .add((s) => new BatchNorm(store, 'bn', s))
          .add((s) => new Relu(s));
      });
    });
    this.features = features;
    this.classifier = new Dense(store, 'classifier', features.outShape[2], numClasses);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): ModelOutput {
    const f = this.features.apply(x, ctx);
    return { logits: this.classifier.apply(tf.mean(f, [1, 2]) as tf.Tensor2D) };
  }
}
