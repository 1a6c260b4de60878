/**
 * Our Mean gradient (dy / n broadcast to the input's shape, registered for all backends) against
 * the value it must have, on wasm and cpu: several axes (leading, inner, negative, all), keepDims,
 * and the network's global average pool shape. It must build no tensor in JavaScript.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Mean } from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/evaluator/backend.js';
import { meanGradConfig } from '../../src/evaluator/wasm-kernels/mean-gradient.js';
import { Rng } from '../../src/core/rng.js';

describe('Mean gradient', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is ours, and uploads nothing of the input size from JavaScript', async () => {
    expect(tf.getGradient(Mean)?.gradFunc).toBe(meanGradConfig.gradFunc);
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as {
      write(values: unknown, shape: number[], dtype: string): unknown;
    };
    const x = tf.randomUniform([8, 4, 4, 32], -1, 1, 'float32', 3);
    const write = backend.write.bind(backend);
    const uploads: number[][] = [];
    backend.write = (values, shape, dtype) => {
      if (values !== null && values !== undefined) uploads.push(shape); // null: an output's buffer
      return write(values, shape, dtype);
    };
    try {
      tf.tidy(() =>
        tf
          .grad((t: tf.Tensor) => tf.sum(tf.mean(t, [1, 2])))(x)
          .dataSync(),
      );
    } finally {
      backend.write = write;
    }
    expect(uploads.filter((s) => s.reduce((a, d) => a * d, 1) >= x.size)).toEqual([]);
    x.dispose();
  });

  const cases: [number[], number | number[], boolean][] = [
    [[4, 3, 5, 6], [1, 2], false],
    [[2, 7], 0, false],
    [[3, 4, 5], -1, true],
    [[2, 3, 4], [0, 1, 2], false],
    [[5, 2, 2, 3], [0, 1, 2], true],
  ];
  for (const backend of ['wasm', 'cpu'])
    it.each(cases)(`${backend}: shape %j axis %j keepDims %s`, async (shape, axis, keepDims) => {
      await tf.setBackend(backend);
      const rng = Rng.fromSeed(`mean-${shape.join('x')}`);
      const size = shape.reduce((a, d) => a * d, 1);
      const xv = Float32Array.from({ length: size }, () => rng.uniform(-1, 1));
      const before = tf.memory().numTensors;
      const { got, w, outShape } = tf.tidy(() => {
        const x = tf.tensor(xv, shape);
        const out = tf.mean(x, axis, keepDims);
        const wt = tf.tensor(
          Float32Array.from({ length: out.size }, () => rng.uniform(-1, 1)),
          out.shape,
        );
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, axis, keepDims), wt)))(x);
        return {
          got: g.dataSync() as Float32Array,
          w: wt.dataSync() as Float32Array,
          outShape: out.shape,
        };
      });
      expect(tf.memory().numTensors).toBe(before);
      // Expected: each x element gets w at its reduced position divided by the count reduced.
      const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + shape.length : a));
      const n = axes.reduce((p, a) => p * shape[a]!, 1);
      const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      expect(kept.filter((d, i) => !axes.includes(i) || keepDims).length).toBe(outShape.length);
      const strides = kept.map((_, i) => kept.slice(i + 1).reduce((a, d) => a * d, 1));
      for (let flat = 0; flat < size; flat++) {
        let rest = flat;
        let at = 0;
        for (let i = shape.length - 1; i >= 0; i--) {
          const coord = rest % shape[i]!;
          rest = Math.floor(rest / shape[i]!);
          if (!axes.includes(i)) at += coord * strides[i]!;
        }
        expect(got[flat]).toBe(Math.fround(w[at]! / n));
      }
    });
});
