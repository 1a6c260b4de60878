/**
 * DenseNet-121, CIFAR variant as in kuangliu/pytorch-cifar (models/densenet.py, DenseNet121 =
 * Bottleneck blocks [6, 12, 24, 16], growth 32, reduction 0.5): 3x3 stem conv to 2*growth channels,
 * bottlenecks BN-ReLU-1x1 conv (4*growth)-BN-ReLU-3x3 conv (growth) concatenated in front of their
 * input, transitions BN-ReLU-1x1 conv (floor(channels/2))-2x2 average pool, final BN-ReLU, global
 * average pooling (the repo's avg_pool2d(4) at 32x32), linear classifier. No conv biases.
 * `width` scales the growth rate (rounded, at least 1). A transition pool that would shrink a side
 * below 1 is skipped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from '../layers/batch-norm.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import type { ForwardContext, Layer, Shape } from '../layers/layer.js';
import type { ParameterStore } from '../layers/parameter-store.js';
import type { ModelOutput, NetworkBody } from '../model.js';
import { scaledChannels } from './resnet.js';

class Bottleneck implements Layer {
  readonly outShape: Shape;
  private readonly bn1: BatchNorm;
  private readonly conv1: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly conv2: Conv2d;

  constructor(store: ParameterStore, s: Shape, growth: number) {
    this.bn1 = new BatchNorm(store, 'bn1', s);
    this.conv1 = new Conv2d(store, 'conv1', s, { outChannels: 4 * growth, kernel: 1 });
    this.bn2 = new BatchNorm(store, 'bn2', this.conv1.outShape);
    this.conv2 = new Conv2d(store, 'conv2', this.conv1.outShape, {
      outChannels: growth,
      kernel: 3,
      padding: 1,
    });
    this.outShape = [s[0], s[1], s[2] + growth];
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const a = this.conv1.apply(tf.relu(this.bn1.apply(x, ctx)));
    const b = this.conv2.apply(tf.relu(this.bn2.apply(a, ctx)));
    return tf.concat([b, x], 3);
  }
}

class Transition implements Layer {
  readonly outShape: Shape;
  private readonly bn: BatchNorm;
  private readonly conv: Conv2d;
  private readonly pool: boolean;

  constructor(store: ParameterStore, s: Shape, out: number) {
    this.bn = new BatchNorm(store, 'bn', s);
    this.conv = new Conv2d(store, 'conv', s, { outChannels: out, kernel: 1 });
    this.pool = s[0] >= 2 && s[1] >= 2;
    this.outShape = this.pool
      ? [Math.floor(s[0] / 2), Math.floor(s[1] / 2), out]
      : [s[0], s[1], out];
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const y = this.conv.apply(tf.relu(this.bn.apply(x, ctx)));
    return this.pool ? tf.avgPool(y, 2, 2, 'valid') : y;
  }
}

export class DenseNet121 implements NetworkBody {
  private readonly stem: Conv2d;
  private readonly layers: Layer[] = [];
  private readonly bn: BatchNorm;
  private readonly classifier: Dense;

  constructor(store: ParameterStore, inputShape: Shape, numClasses: number, width: number) {
    const growth = scaledChannels(32, width);
    this.stem = new Conv2d(store, 'conv1', inputShape, {
      outChannels: 2 * growth,
      kernel: 3,
      padding: 1,
    });
    let shape = this.stem.outShape;
    const blocks = [6, 12, 24, 16];
    blocks.forEach((n, i) => {
      for (let b = 0; b < n; b++) {
        const layer = store.scoped(
          `dense${i + 1}.${b}`,
          () => new Bottleneck(store, shape, growth),
        );
        this.layers.push(layer);
        shape = layer.outShape;
      }
      if (i < blocks.length - 1) {
        const out = Math.floor(shape[2] * 0.5);
        const t = store.scoped(`trans${i + 1}`, () => new Transition(store, shape, out));
        this.layers.push(t);
        shape = t.outShape;
      }
    });
    this.bn = new BatchNorm(store, 'bn', shape);
    this.classifier = new Dense(store, 'linear', shape[2], numClasses);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): ModelOutput {
    let y = this.stem.apply(x);
    for (const layer of this.layers) y = layer.apply(y, ctx);
    const f = tf.mean(tf.relu(this.bn.apply(y, ctx)), [1, 2]) as tf.Tensor2D;
    return { logits: this.classifier.apply(f) };
  }
}
