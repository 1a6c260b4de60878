/**
 * ResNet-18, CIFAR variant as in kuangliu/pytorch-cifar (models/resnet.py): 3x3 stem conv (64) + BN,
 * no max pool, four stages of two BasicBlocks (64, 128, 256, 512 channels; strides 1, 2, 2, 2),
 * 1x1 conv + BN shortcuts where the shape changes, global average pooling (the repo's
 * avg_pool2d(4) on 32x32 inputs), linear classifier. Convs have no bias. `width` scales every
 * channel count (rounded, at least 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from '../layers/batch-norm.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dense } from '../layers/dense.js';
import type { ForwardContext, Layer, Shape } from '../layers/layer.js';
import type { ParameterStore } from '../layers/parameter-store.js';
import { Sequential } from '../layers/sequential.js';
import type { ModelOutput, NetworkBody } from '../model.js';

export function scaledChannels(base: number, width: number): number {
  return Math.max(1, Math.round(base * width));
}

function convBn(
  store: ParameterStore,
  name: string,
  s: Shape,
  out: number,
  k: number,
  stride: number,
) {
  return store.scoped(name, () =>
    new Sequential(s)
      .add(
        (x) =>
          new Conv2d(store, 'conv', x, {
            outChannels: out,
            kernel: k,
            stride,
            padding: (k - 1) / 2,
          }),
      )
      .add((x) => new BatchNorm(store, 'bn', x)),
  );
}

class BasicBlock implements Layer {
  readonly outShape: Shape;
  private readonly first: Layer;
  private readonly second: Layer;
  private readonly shortcut?: Layer;

  constructor(store: ParameterStore, inShape: Shape, planes: number, stride: number) {
    this.first = convBn(store, '1', inShape, planes, 3, stride);
    this.second = convBn(store, '2', this.first.outShape, planes, 3, 1);
    if (stride !== 1 || inShape[2] !== planes) {
      this.shortcut = convBn(store, 'shortcut', inShape, planes, 1, stride);
    }
    this.outShape = this.second.outShape;
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    const y = this.second.apply(tf.relu(this.first.apply(x, ctx)), ctx);
    const skip = this.shortcut ? this.shortcut.apply(x, ctx) : x;
    return tf.relu(tf.add(y, skip)) as tf.Tensor4D;
  }
}

export class ResNet18 implements NetworkBody {
  private readonly stem: Layer;
  private readonly blocks: Layer[] = [];
  private readonly classifier: Dense;

  constructor(store: ParameterStore, inputShape: Shape, numClasses: number, width: number) {
    this.stem = convBn(store, 'stem', inputShape, scaledChannels(64, width), 3, 1);
    let shape = this.stem.outShape;
    const stages: [number, number][] = [
      [64, 1],
      [128, 2],
      [256, 2],
      [512, 2],
    ];
    stages.forEach(([planes, stride], i) => {
      for (let b = 0; b < 2; b++) {
        const block = store.scoped(
          `layer${i + 1}.${b}`,
          () => new BasicBlock(store, shape, scaledChannels(planes, width), b === 0 ? stride : 1),
        );
        this.blocks.push(block);
        shape = block.outShape;
      }
    });
    this.classifier = new Dense(store, 'linear', shape[2], numClasses);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): ModelOutput {
    let y = tf.relu(this.stem.apply(x, ctx));
    for (const block of this.blocks) y = block.apply(y, ctx);
    return { logits: this.classifier.apply(tf.mean(y, [1, 2]) as tf.Tensor2D) };
  }
}
