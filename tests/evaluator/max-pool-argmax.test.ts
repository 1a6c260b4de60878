/**
 * Max pooling that keeps its argmax for the backward pass (max-pool-argmax.ts) against the path
 * without it (tfjs-backend-wasm's MaxPool, our max_pool_grad that searches the windows again) and
 * against the cpu backend: the same values and bit-identical gradients, ties included (the first
 * maximum of a window gets the gradient), on DARTS's 3x3 pools at stride 1 and 2, VGG's 2x2, odd
 * sizes and channel counts that are not a multiple of 4. Also: the argmax kernels run only while
 * a tape records, through the MaxPool layer, and every tensor is freed.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/core/rng.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { MaxPool } from '../../src/evaluator/layers/pools.js';
import {
  MAX_POOL_ARGMAX_ENV_VAR,
  MAX_POOL_ARGMAX_GRAD_KERNEL,
  MAX_POOL_ARGMAX_KERNEL,
  maxPoolArgmaxActive,
  setMaxPoolArgmax,
} from '../../src/evaluator/wasm-kernels/max-pool-argmax.js';

type Case = [n: number, h: number, w: number, c: number, size: number, stride: number, pad: number];
const CASES: Case[] = [
  [2, 8, 8, 16, 3, 1, 1],
  [2, 8, 8, 16, 3, 2, 1],
  [3, 7, 9, 5, 3, 2, 1],
  [1, 11, 6, 3, 3, 1, 1],
  [2, 6, 6, 8, 2, 2, 0],
  [1, 5, 7, 7, 2, 2, 0],
  [4, 16, 16, 32, 3, 2, 1],
];

function values(rng: Rng, size: number, ties: boolean): Float32Array {
  const v = new Float32Array(size);
  // Ties: a handful of integer levels, so most windows hold their maximum more than once.
  for (let i = 0; i < size; i++) v[i] = ties ? Math.floor(rng.uniform(0, 4)) : rng.uniform(-1, 1);
  return v;
}

interface Result {
  y: Float32Array;
  dx: Float32Array;
}

function pool(backend: string, c: Case, x: Float32Array, r: Float32Array, argmax: boolean): Result {
  const [n, h, w, ch, size, stride, pad] = c;
  tf.setBackend(backend);
  setMaxPoolArgmax(argmax);
  const layer = new MaxPool([h, w, ch], size, stride, pad);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [n, h, w, ch]);
    const y = layer.apply(xt);
    const rt = tf.tensor(r, y.shape);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t as tf.Tensor4D), rt)))(xt);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

function outSize(c: Case): number {
  const [n, h, w, ch, size, stride, pad] = c;
  const o = (l: number) => Math.floor((l + 2 * pad - size) / stride) + 1;
  return n * o(h) * o(w) * ch;
}

describe('max pooling with the argmax kept for the backward pass', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterEach(async () => {
    setMaxPoolArgmax(undefined);
    await tf.setBackend('wasm');
  });

  const rng = Rng.fromSeed('max-pool-argmax');
  it.each(CASES.flatMap((c) => [[c, false] as const, [c, true] as const]))(
    '%j (ties %s): same values and bit-identical gradients as without it, and as cpu',
    (c, ties) => {
      const [n, h, w, ch] = c;
      const x = values(rng, n * h * w * ch, ties);
      const r = values(rng, outSize(c), false);
      const kept = pool('wasm', c, x, r, true);
      const searched = pool('wasm', c, x, r, false);
      const cpu = pool('cpu', c, x, r, false);
      expect(kept.y).toEqual(searched.y);
      expect(kept.dx).toEqual(searched.dx);
      expect(kept.y).toEqual(cpu.y);
      // cpu's MaxPoolGrad also routes to the first maximum; its sums may round differently.
      for (let i = 0; i < cpu.dx.length; i++) expect(kept.dx[i]).toBeCloseTo(cpu.dx[i]!, 5);
    },
  );

  it('runs only under a gradient tape on wasm, through the layer', async () => {
    setMaxPoolArgmax(true);
    const layer = new MaxPool([8, 8, 4], 3, 2, 1);
    const x = tf.randomUniform([2, 8, 8, 4], -1, 1, 'float32', 3) as tf.Tensor4D;
    expect(maxPoolArgmaxActive()).toBe(false);
    const before = tf.memory().numTensors;
    const inference = await tf.profile(() => layer.apply(x));
    expect(inference.kernelNames).not.toContain(MAX_POOL_ARGMAX_KERNEL);
    (inference.result as tf.Tensor).dispose();
    const training = await tf.profile(() =>
      tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t as tf.Tensor4D)))(x),
    );
    expect(training.kernelNames).toContain(MAX_POOL_ARGMAX_KERNEL);
    expect(training.kernelNames).toContain(MAX_POOL_ARGMAX_GRAD_KERNEL);
    expect(training.kernelNames).not.toContain('MaxPoolGrad');
    (training.result as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(before);
    setMaxPoolArgmax(false);
    const off = await tf.profile(() =>
      tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t as tf.Tensor4D)))(x),
    );
    expect(off.kernelNames).not.toContain(MAX_POOL_ARGMAX_KERNEL);
    expect(off.kernelNames).toContain('MaxPoolGrad');
    (off.result as tf.Tensor).dispose();
    x.dispose();
  });

  it('names a bad value of its environment variable', () => {
    setMaxPoolArgmax(undefined);
    process.env[MAX_POOL_ARGMAX_ENV_VAR] = 'yes';
    try {
      expect(() => maxPoolArgmaxActive()).toThrow(
        `${MAX_POOL_ARGMAX_ENV_VAR} must be 0 or 1, got "yes"`,
      );
    } finally {
      delete process.env[MAX_POOL_ARGMAX_ENV_VAR];
    }
  });
});
