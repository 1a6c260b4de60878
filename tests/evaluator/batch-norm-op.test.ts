/**
 * The fused training BatchNorm (wasm kernel + fused backward kernel) against the plain tfjs-ops
 * formulation (tf.moments, rsqrt, mul, add) differentiated by tfjs on the cpu backend: outputs,
 * batch statistics, and gradients w.r.t. x, gamma and beta, on seeded random shapes (batch 1 and
 * more, channel counts that are and are not multiples of 4, inputs far from zero mean).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/evaluator/backend.js';
import {
  BN_TRAIN_KERNEL,
  batchNormTraining,
  hasFusedBatchNorm,
  plainBatchNormTraining,
} from '../../src/evaluator/wasm-kernels/batch-norm-op.js';
import { Rng } from '../../src/core/rng.js';

interface Case {
  readonly shape: [number, number, number, number];
  /** Added to x: BatchNorm must stay accurate when |mean| >> std. */
  readonly offset: number;
}

interface Result {
  y: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

function randomArray(rng: Rng, size: number, offset = 0, scale = 1): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = offset + scale * rng.uniform(-1, 1);
  return a;
}

function makeCases(): Case[] {
  const rng = Rng.fromSeed('batch-norm-op');
  const cases: Case[] = [
    { shape: [1, 1, 1, 3], offset: 0 },
    { shape: [1, 5, 7, 16], offset: 0 },
    { shape: [2, 3, 3, 1], offset: 0 },
    { shape: [4, 8, 8, 13], offset: 50 },
  ];
  for (let i = 0; i < 6; i++) {
    cases.push({
      shape: [
        rng.intBetween(1, 4),
        rng.intBetween(1, 12),
        rng.intBetween(1, 12),
        rng.choice([1, 2, 4, 5, 8, 16, 19, 48]),
      ],
      offset: rng.choice([0, 0, 3, -20]),
    });
  }
  // More than 256 rows per channel: several accumulation blocks.
  cases.push({ shape: [3, 16, 16, 6], offset: 7 });
  return cases;
}

/** Values and gradients of sum(y * w) with `op` on the current backend. */
function run(
  op: typeof batchNormTraining,
  c: Case,
  data: { x: Float32Array; gamma: Float32Array; beta: Float32Array; w: Float32Array },
): Result {
  return tf.tidy(() => {
    const ch = c.shape[3];
    const x = tf.tensor4d(data.x, c.shape);
    const gamma = tf.tensor1d(data.gamma.subarray(0, ch));
    const beta = tf.tensor1d(data.beta.subarray(0, ch));
    const w = tf.tensor4d(data.w, c.shape);
    const fwd = op(x, gamma, beta);
    const [dx, dgamma, dbeta] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const r = op(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D);
      return tf.sum(tf.mul(r.y, w));
    })([x, gamma, beta]);
    return {
      y: fwd.y.dataSync() as Float32Array,
      mean: fwd.mean.dataSync() as Float32Array,
      variance: fwd.variance.dataSync() as Float32Array,
      dx: dx!.dataSync() as Float32Array,
      dgamma: dgamma!.dataSync() as Float32Array,
      dbeta: dbeta!.dataSync() as Float32Array,
    };
  });
}

/** Max |a - e| relative to max(1, max |e|). */
function relError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    expect(Number.isFinite(actual[i]!)).toBe(true);
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / Math.max(1, maxRef);
}

describe('fused training BatchNorm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('runs the fused kernel on wasm and the plain ops on cpu', async () => {
    expect(tf.getKernel(BN_TRAIN_KERNEL, 'wasm')).toBeDefined();
    expect(hasFusedBatchNorm()).toBe(true);
    await tf.setBackend('cpu');
    expect(hasFusedBatchNorm()).toBe(false);
    await tf.setBackend('wasm');
  });

  const cases = makeCases();
  it.each(cases.map((c) => [`${c.shape.join('x')} offset ${c.offset}`, c] as const))(
    'matches the plain formulation on cpu: %s',
    async (name, c) => {
      const rng = Rng.fromSeed(name);
      const size = c.shape.reduce((p, d) => p * d, 1);
      const ch = c.shape[3];
      const data = {
        x: randomArray(rng, size, c.offset, 2),
        gamma: randomArray(rng, ch, 1, 0.5),
        beta: randomArray(rng, ch),
        w: randomArray(rng, size),
      };
      await tf.setBackend('cpu');
      const ref = run(plainBatchNormTraining, c, data);
      await tf.setBackend('wasm');
      const got = run(batchNormTraining, c, data);
      // Float32 on both sides; the reference's one-pass tf.moments loses digits at large offsets.
      const tol = c.offset === 0 ? 2e-5 : 1e-3;
      expect(relError(got.mean, ref.mean)).toBeLessThan(1e-5);
      expect(relError(got.variance, ref.variance)).toBeLessThan(tol);
      expect(relError(got.y, ref.y)).toBeLessThan(tol);
      expect(relError(got.dx, ref.dx)).toBeLessThan(tol);
      expect(relError(got.dgamma, ref.dgamma)).toBeLessThan(tol);
      expect(relError(got.dbeta, ref.dbeta)).toBeLessThan(1e-5);
    },
  );

  it('normalises exactly: per-channel output mean beta, variance gamma^2 var/(var+eps)', () => {
    const rng = Rng.fromSeed('bn-exact');
    const shape: [number, number, number, number] = [2, 6, 6, 8];
    const x = tf.tensor4d(randomArray(rng, 2 * 6 * 6 * 8, 100, 0.5), shape);
    const gamma = tf.tensor1d(randomArray(rng, 8, 1, 0.5));
    const beta = tf.tensor1d(randomArray(rng, 8));
    const { y, mean, variance } = batchNormTraining(x, gamma, beta);
    const m = tf.moments(y, [0, 1, 2]);
    const g = gamma.dataSync();
    const v = variance.dataSync();
    const ym = m.mean.dataSync();
    const yv = m.variance.dataSync();
    expect(relError(ym as Float32Array, beta.dataSync() as Float32Array)).toBeLessThan(1e-4);
    for (let c = 0; c < 8; c++)
      expect(yv[c]!).toBeCloseTo((g[c]! * g[c]! * v[c]!) / (v[c]! + 1e-5), 3);
    for (const value of mean.dataSync()) expect(Math.abs(value - 100)).toBeLessThan(0.2);
    tf.dispose([x, gamma, beta, y, mean, variance, m.mean, m.variance]);
  });

  it('leaks no tensors in forward and backward', () => {
    const x = tf.randomUniform([2, 4, 4, 5], -1, 1, 'float32', 3) as tf.Tensor4D;
    const gamma = tf.ones([5]) as tf.Tensor1D;
    const beta = tf.zeros([5]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const r = batchNormTraining(x, gamma, beta);
      tf.dispose([r.y, r.mean, r.variance]);
      const gs = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(batchNormTraining(a, g as tf.Tensor1D, b as tf.Tensor1D).y)),
      )([x, gamma, beta]);
      tf.dispose(gs);
      tf.tidy(() => {
        const [gx] = tf.grads((a: tf.Tensor) => tf.sum(batchNormTraining(a, gamma, beta).y))([x]);
        return gx;
      }).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta]);
  });

  it('rejects mismatched gamma and beta', () => {
    const x = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const ok = tf.ones([3]) as tf.Tensor1D;
    const bad = tf.ones([4]) as tf.Tensor1D;
    expect(() => batchNormTraining(x, bad, ok)).toThrow(/gamma and beta must have shape \[3\]/);
    tf.dispose([x, ok, bad]);
  });
});
