/** Turns byte images into tensors: x float32 NHWC in [0, 1], y int32 class indices. */
import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from './image-set.js';

export interface Batch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor1D;
}

/** Images `start` .. `end - 1` of `set`. */
export function sliceBatch(set: ImageSet, start: number, end: number): Batch {
  const size = set.height * set.width * set.channels;
  const n = end - start;
  const pixels = new Float32Array(n * size);
  const src = set.images.subarray(start * size, end * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (src[i] as number) / 255;
  return {
    x: tf.tensor4d(pixels, [n, set.height, set.width, set.channels]),
    y: tf.tensor1d(Int32Array.from(set.labels.subarray(start, end)), 'int32'),
  };
}

/** Images at `indices` of `set`, in that order. */
export function gatherBatch(set: ImageSet, indices: readonly number[]): Batch {
  const size = set.height * set.width * set.channels;
  const pixels = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((index, k) => {
    const src = set.images.subarray(index * size, (index + 1) * size);
    for (let i = 0; i < size; i++) pixels[k * size + i] = (src[i] as number) / 255;
    labels[k] = set.labels[index] as number;
  });
  return {
    x: tf.tensor4d(pixels, [indices.length, set.height, set.width, set.channels]),
    y: tf.tensor1d(labels, 'int32'),
  };
}
