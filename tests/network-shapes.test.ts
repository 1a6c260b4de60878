import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/evaluator/architecture.js';
import { initBackend } from '../src/evaluator/backend.js';
import { DepthwiseConv2d } from '../src/evaluator/layers/depthwise-conv2d.js';
import type { ForwardContext, Shape } from '../src/evaluator/layers/layer.js';
import { ParameterStore } from '../src/evaluator/layers/parameter-store.js';
import { AvgPoolExcludePad } from '../src/evaluator/layers/pools.js';
import { OPS } from '../src/evaluator/operations.js';
import { OPERATIONS } from '../src/search/genotype.js';
import { getPublishedGenotype } from '../src/search/published-genotypes.js';

const ctx: ForwardContext = {
  training: true,
  dropPathProb: 0,
  dropPathMask: () => {
    throw new Error('unused');
  },
};

beforeAll(async () => {
  await initBackend('cpu');
});

describe('operations', () => {
  for (const op of OPERATIONS) {
    for (const stride of [1, 2]) {
      it.each([
        [8, 8],
        [7, 7],
        [5, 6],
      ])(`${op} stride ${stride} on %ix%i`, (h, w) => {
        const store = new ParameterStore(1);
        const inShape: Shape = [h, w, 4];
        const layer = OPS[op](store, op, inShape, stride);
        const expected = [Math.ceil(h / stride), Math.ceil(w / stride), 4];
        expect([...layer.outShape]).toEqual(expected);
        const y = tf.tidy(() =>
          layer.apply(tf.randomUniform([2, h, w, 4], 0, 1, 'float32', 1), ctx),
        );
        expect(y.shape).toEqual([2, ...expected]);
        y.dispose();
      });
    }
  }
});

describe('layers agree with tfjs reference ops', () => {
  it.each([
    [3, 1, 9],
    [3, 2, 9],
    [5, 1, 8],
    [5, 2, 7],
  ])(
    'dilated depthwise k=%i stride %i on %i: equals the native dilated conv',
    (k, stride, size) => {
      const store = new ParameterStore(3);
      const layer = new DepthwiseConv2d(store, 'dw', [size, size, 3], {
        kernel: k,
        stride,
        padding: k - 1,
        dilation: 2,
      });
      const w = store.trainable[0]?.variable as tf.Tensor4D;
      const diff = tf.tidy(() => {
        const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
        const mine = layer.apply(x);
        const full = tf.depthwiseConv2d(x, w, 1, k - 1, 'NHWC', 2);
        const reference =
          stride === 1 ? full : tf.stridedSlice(full, [0, 0, 0, 0], full.shape, [1, 2, 2, 1]);
        expect(mine.shape).toEqual(reference.shape);
        return tf.max(tf.abs(tf.sub(mine, reference))).dataSync()[0] as number;
      });
      expect(diff).toBeLessThan(1e-5);
    },
  );

  it('average pooling excludes the padding (count_include_pad=False) at stride 1 and 2', () => {
    for (const stride of [1, 2]) {
      const store = new ParameterStore(0);
      const layer = new AvgPoolExcludePad(store, [5, 5, 2], 3, stride, 1);
      const x = tf.tensor4d(
        Array.from({ length: 50 }, (_, i) => i),
        [1, 5, 5, 2],
      );
      const y = layer.apply(x);
      const v = y.dataSync();
      // Corner window covers x[0..1, 0..1]: channel 0 values 0, 2, 10, 12 -> mean 6.
      expect(v[0]).toBeCloseTo(6, 5);
      tf.dispose([x, y, ...store.constants]);
    }
  });
});

describe('networks', () => {
  it.each([[[28, 28, 1]], [[32, 32, 3]], [[30, 30, 3]], [[17, 21, 2]]] as [
    number,
    number,
    number,
  ][][])('DARTS_V2 builds and runs on %j', (shape) => {
    const model = buildModel(
      { genotype: getPublishedGenotype('DARTS_V2') },
      { channels: 4, layers: 5, numClasses: 7, inputShape: shape, seed: 1, auxiliary: true },
    );
    const out = model.apply(tf.zeros([2, ...shape]) as tf.Tensor4D, { training: true });
    expect(out.logits.shape).toEqual([2, 7]);
    expect(out.auxLogits?.shape).toEqual([2, 7]);
    const test = model.apply(tf.zeros([2, ...shape]) as tf.Tensor4D, { training: false });
    expect(test.auxLogits).toBeUndefined();
    tf.dispose([out.logits, out.auxLogits, test.logits]);
    model.dispose();
  });

  it('every published genotype builds at C=4 and 6 cells', async () => {
    const { PUBLISHED_GENOTYPE_NAMES } = await import('../src/search/published-genotypes.js');
    for (const name of PUBLISHED_GENOTYPE_NAMES) {
      const model = buildModel(
        { genotype: getPublishedGenotype(name) },
        { channels: 4, layers: 6, numClasses: 10, inputShape: [16, 16, 3], seed: 2 },
      );
      const out = model.apply(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, { training: false });
      expect(out.logits.shape).toEqual([1, 10]);
      out.logits.dispose();
      model.dispose();
    }
  });

  it.each(['resnet18', 'vgg16', 'densenet121'] as const)(
    '%s (width 1/8) builds and runs on 32x32x3 and 28x28x1',
    (arch) => {
      for (const shape of [
        [32, 32, 3],
        [28, 28, 1],
      ] as [number, number, number][]) {
        const model = buildModel(
          { arch, width: 0.125 },
          { channels: 1, layers: 1, numClasses: 10, inputShape: shape, seed: 3 },
        );
        const out = model.apply(tf.zeros([2, ...shape]) as tf.Tensor4D, { training: true });
        expect(out.logits.shape).toEqual([2, 10]);
        out.logits.dispose();
        model.dispose();
      }
    },
  );

  it('is deterministic in its seed and rejects bad options', () => {
    const make = (seed: number) =>
      buildModel(
        { genotype: getPublishedGenotype('DARTS_V2') },
        { channels: 4, layers: 3, numClasses: 10, inputShape: [8, 8, 3], seed },
      );
    const [a, b, c] = [make(5), make(5), make(6)];
    const first = (m: typeof a) => Array.from(m.trainableVariables[0]?.dataSync() ?? []);
    expect(first(a)).toEqual(first(b));
    expect(first(a)).not.toEqual(first(c));
    [a, b, c].forEach((m) => m.dispose());
    expect(() =>
      buildModel(
        { arch: 'resnet18' },
        { channels: 1, layers: 1, numClasses: 0, inputShape: [8, 8, 3], seed: 1 },
      ),
    ).toThrow(/numClasses/);
    expect(() =>
      buildModel(
        { genotype: getPublishedGenotype('DARTS_V2') },
        {
          channels: 4,
          layers: 3,
          numClasses: 10,
          inputShape: [8, 8, 3],
          seed: 1,
          normalization: { mean: [0], std: [1] },
        },
      ),
    ).toThrow(/normalization/);
  });
});
