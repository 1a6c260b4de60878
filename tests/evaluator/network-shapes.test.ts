import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { DepthwiseConv2d } from '../../src/evaluator/layers/depthwise-conv2d.js';
import type { ForwardContext, Shape } from '../../src/evaluator/layers/layer.js';
import { ParameterStore } from '../../src/evaluator/layers/parameter-store.js';
import { reluCache } from '../../src/evaluator/layers/relu.js';
import { NetworkCifar } from '../../src/evaluator/network.js';
import { AvgPoolExcludePad } from '../../src/evaluator/layers/pools.js';
import { FactorizedReduce } from '../../src/evaluator/layers/factorized-reduce.js';
import { conv2dWithBias } from '../../src/evaluator/layers/fused-conv2d.js';
import { reluConvBn } from '../../src/evaluator/layers/relu-conv-bn.js';
import { OPS } from '../../src/evaluator/operations.js';
import { OPERATIONS } from '../../src/core/genotype.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

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

  it.each(['relu-conv-bn', 'factorized-reduce'])(
    '%s in inference folds its BatchNorm into the conv and equals conv then BN',
    (kind) => {
      const store = new ParameterStore(7);
      const inShape: Shape = [6, 6, 4];
      const layer =
        kind === 'relu-conv-bn'
          ? reluConvBn(store, 'rcb', inShape, 6, 3, 1, 1)
          : new FactorizedReduce(store, 'fr', inShape, 6);
      const named = new Map(
        [...store.trainable, ...store.state].map((v) => [v.name, v.variable] as const),
      );
      const get = (suffix: string) =>
        [...named.entries()].filter(([n]) => n.endsWith(suffix)).map(([, v]) => v);
      // Non-trivial BN parameters and running statistics.
      const rng = (seed: number) => tf.randomUniform([6], 0.5, 2, 'float32', seed);
      get('.weight').forEach((v) => v.shape.length === 1 && v.assign(rng(1)));
      get('.bias').forEach((v) => v.assign(tf.sub(rng(2), 1)));
      get('.running_mean').forEach((v) => v.assign(tf.sub(rng(3), 1)));
      get('.running_var').forEach((v) => v.assign(rng(4)));
      const inference: ForwardContext = { ...ctx, training: false };
      const x = tf.randomUniform([2, ...inShape], -1, 1, 'float32', 8) as tf.Tensor4D;
      const diff = tf.tidy(() => {
        const folded = layer.apply(x, inference);
        const r = tf.relu(x);
        const convs = get('.weight').filter(
          (v) => v.shape.length === 4,
        ) as tf.Variable<tf.Rank.R4>[];
        const z =
          kind === 'relu-conv-bn'
            ? tf.conv2d(r, convs[0] as tf.Tensor4D, 1, 1)
            : tf.concat(
                [
                  tf.conv2d(r, convs[0] as tf.Tensor4D, 2, 0),
                  tf.conv2d(tf.slice(r, [0, 1, 1, 0], [2, 5, 5, 4]), convs[1] as tf.Tensor4D, 2, 0),
                ],
                3,
              );
        const [gamma, beta, mean, variance] = [
          get('.weight').find((v) => v.shape.length === 1),
          get('.bias')[0],
          get('.running_mean')[0],
          get('.running_var')[0],
        ] as tf.Tensor[];
        const reference = tf.add(
          tf.mul(
            tf.div(tf.sub(z, mean as tf.Tensor), tf.sqrt(tf.add(variance as tf.Tensor, 1e-5))),
            gamma as tf.Tensor,
          ),
          beta as tf.Tensor,
        );
        expect(folded.shape).toEqual(reference.shape);
        return tf.max(tf.abs(tf.sub(folded, reference))).dataSync()[0] as number;
      });
      expect(diff).toBeLessThan(1e-5);
      x.dispose();
      for (const v of named.values()) v.dispose();
    },
  );

  it.each([
    [1, 0 as const],
    [2, 1 as const],
    [
      1,
      [
        [0, 0],
        [0, 1],
        [1, 1],
        [0, 0],
      ] as [[number, number], [number, number], [number, number], [number, number]],
    ],
  ])(
    'conv with bias in one kernel (stride %i, pad %j): value and gradients of conv + bias',
    (stride, pad) => {
      const x = tf.randomUniform([2, 7, 6, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomUniform([3, 3, 3, 4], -1, 1, 'float32', 2) as tf.Tensor4D;
      const b = tf.randomUniform([4], -1, 1, 'float32', 3) as tf.Tensor1D;
      const strides: [number, number] = [stride, stride];
      const upstreamShape = tf.conv2d(x, w, strides, pad).shape;
      const up = tf.randomUniform(upstreamShape, -1, 1, 'float32', 4);
      const loss = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D) =>
        tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D), up)),
        )([x, w, b]);
      const fused = loss((xx, ww, bb) => conv2dWithBias(xx, ww, bb, strides, pad));
      const plain = loss((xx, ww, bb) => tf.add(tf.conv2d(xx, ww, strides, pad), bb));
      fused.forEach((g, i) => {
        const diff = tf.max(tf.abs(tf.sub(g, plain[i] as tf.Tensor))).dataSync()[0] as number;
        expect(diff).toBeLessThan(1e-4);
      });
      const y1 = conv2dWithBias(x, w, b, strides, pad);
      const y2 = tf.add(tf.conv2d(x, w, strides, pad), b);
      expect(tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([x, w, b, up, y1, y2, ...fused, ...plain]);
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

  it('training without the auxiliary head (auxiliary: false) returns and computes no aux logits', async () => {
    const model = buildModel(
      { genotype: getPublishedGenotype('DARTS_V2') },
      { channels: 4, layers: 3, numClasses: 5, inputShape: [8, 8, 3], seed: 1, auxiliary: true },
    );
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const kernels = async (auxiliary: boolean) => {
      let out: { logits: tf.Tensor2D; auxLogits?: tf.Tensor2D } | undefined;
      const profile = await tf.profile(() => {
        out = model.apply(x, { training: true, auxiliary });
      });
      model.discardBatchStatistics?.();
      tf.dispose([out?.logits, out?.auxLogits]);
      return { calls: profile.kernels.length, aux: out?.auxLogits !== undefined };
    };
    const withHead = await kernels(true);
    const without = await kernels(false);
    expect(withHead.aux).toBe(true);
    expect(without.aux).toBe(false);
    expect(without.calls).toBeLessThan(withHead.calls);
    x.dispose();
    model.dispose();
  });

  it('rectifies each tensor once however many ops read it, with unchanged results', async () => {
    const store = new ParameterStore(4);
    const net = new NetworkCifar(store, getPublishedGenotype('DARTS_V2'), {
      channels: 4,
      layers: 5,
      numClasses: 3,
      inputShape: [8, 8, 3],
      auxiliary: false,
    });
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
    const run = async (shared: boolean) => {
      const context: ForwardContext = shared ? { ...ctx, relu: reluCache() } : ctx;
      let logits: number[] = [];
      const profile = await tf.profile(() => {
        logits = [...tf.tidy(() => net.apply(x, context).logits).dataSync()];
      });
      const relus = profile.kernels.filter((k) => k.name === 'Relu').length;
      return { logits, relus };
    };
    const each = await run(false);
    const once = await run(true);
    expect(once.logits).toEqual(each.logits);
    expect(once.relus).toBeGreaterThan(0);
    expect(once.relus).toBeLessThan(each.relus);
    x.dispose();
    for (const v of store.trainable) v.variable.dispose();
    for (const v of store.state) v.variable.dispose();
  });

  it('reluCache computes relu(x) once per tensor, and again once an inner tidy disposed it', () => {
    const relu = reluCache();
    const a = tf.tensor4d([-1, 2], [1, 1, 2, 1]);
    const b = tf.tensor4d([-1, 2], [1, 1, 2, 1]);
    const ra = relu(a);
    expect(relu(a)).toBe(ra);
    expect(relu(b)).not.toBe(ra);
    expect([...ra.dataSync()]).toEqual([0, 2]);
    tf.tidy(() => relu(b)).dispose();
    const again = relu(b);
    expect(again.isDisposed).toBe(false);
    expect([...again.dataSync()]).toEqual([0, 2]);
    tf.dispose([a, b, ra, again]);
  });

  it('every published genotype builds at C=4 and 6 cells', async () => {
    const { PUBLISHED_GENOTYPE_NAMES } = await import('../../src/core/published-genotypes.js');
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
