/**
 * The ReLU fused into the 1x1 convolution after it (layers/relu-conv.ts, wasm-kernels/
 * relu-conv1x1.ts) against the separate ReLU and convolution, on wasm with either kernel variant:
 * forward values, input and filter gradients bit-identical on shapes with channel counts below, at
 * and above multiples of 4, 8 and 16, pixel counts that are not a multiple of 4 and inputs with
 * zeros and negative zeros; the same in inference with the BatchNorm folded (with bias); whole
 * DARTS training steps and input gradients give bit-identical weights and gradients; every tensor
 * is freed. Off wasm (cpu) the layer is the plain ReLU then conv.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '../../src/core/rng.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { inputGradient } from '../../src/evaluator/input-gradient.js';
import { ParameterStore } from '../../src/evaluator/layers/parameter-store.js';
import { ReluConv2d, setReluFusion } from '../../src/evaluator/layers/relu-conv.js';
import { reluConvBn } from '../../src/evaluator/layers/relu-conv-bn.js';
import type { ForwardContext } from '../../src/evaluator/layers/layer.js';
import { Sgd } from '../../src/evaluator/sgd.js';
import { trainStep } from '../../src/evaluator/train-step.js';
import {
  useKernelVariant,
  activeKernelVariant,
  type KernelVariant,
} from '../../src/evaluator/wasm-kernels/kernels-module.js';
import { RELU_CONV1X1_KERNEL } from '../../src/evaluator/wasm-kernels/relu-conv1x1.js';

const ctx = (training: boolean): ForwardContext => ({
  training,
  dropPathProb: 0,
  dropPathMask: () => {
    throw new Error('no drop path here');
  },
});

function bits(t: tf.Tensor): number[] {
  const f = t.dataSync() as Float32Array;
  return Array.from(new Uint32Array(f.buffer.slice(f.byteOffset, f.byteOffset + f.byteLength)));
}

function input(rng: Rng, shape: number[]): tf.Tensor4D {
  const size = shape.reduce((a, d) => a * d, 1);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = rng.uniform(0, 1);
    // Some exact zeros and negative zeros (the ReLU's edge), the rest uniform in [-1, 1).
    v[i] = u < 0.05 ? 0 : u < 0.1 ? -0 : rng.uniform(-1, 1);
  }
  return tf.tensor4d(v, shape as [number, number, number, number]);
}

let restore: KernelVariant;

describe('ReLU fused into the 1x1 convolution', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    restore = activeKernelVariant();
  });
  afterEach(() => setReluFusion(undefined));
  afterAll(() => useKernelVariant(restore));

  const rng = Rng.fromSeed('relu-conv-fusion');
  const cases: [number, number, number, number, number][] = [
    [2, 5, 7, 19, 37],
    [1, 4, 4, 16, 16],
    [3, 3, 3, 2, 48],
    [2, 9, 9, 64, 16],
    [1, 1, 3, 5, 3],
  ];
  it.each(cases.flatMap((c) => (['simd128', 'relaxed-simd'] as const).map((v) => [c, v] as const)))(
    '%j, %s kernels: training forward and gradients bit-identical',
    (c, variant) => {
      useKernelVariant(variant);
      const [n, h, w, ci, co] = c;
      const store = new ParameterStore(ci * 100 + co);
      const layer = new ReluConv2d(store, 'conv', [h, w, ci], { outChannels: co, kernel: 1 });
      const x = input(rng, [n, h, w, ci]);
      const r = input(rng, [n, h, w, co]);
      const weight = store.trainable[0]!.variable;
      const loss = (t: tf.Tensor4D) => tf.sum(tf.mul(layer.apply(t, ctx(true)), r)) as tf.Scalar;
      const run = (fused: boolean) => {
        setReluFusion(fused);
        expect(layer.fused(x)).toBe(fused);
        return tf.tidy(() => {
          const y = layer.apply(x, ctx(true));
          const dx = tf.grad((t: tf.Tensor) => loss(t as tf.Tensor4D))(x);
          const { grads } = tf.variableGrads(() => loss(x), [weight]);
          return { y: bits(y), dx: bits(dx), dw: bits(grads[weight.name]!) };
        });
      };
      const before = tf.memory().numTensors;
      const fused = run(true);
      const separate = run(false);
      expect(fused.y).toEqual(separate.y);
      expect(fused.dx).toEqual(separate.dx);
      expect(fused.dw).toEqual(separate.dw);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, r, weight]);
    },
  );

  it('inference with the BatchNorm folded (a bias): output and input gradient bit-identical', () => {
    const store = new ParameterStore(3);
    const op = reluConvBn(store, 'pre', [6, 5, 24], 20, 1, 1, 0);
    // Non-trivial running statistics, so the fold gives a real scale and shift.
    tf.tidy(() => op.apply(input(rng, [4, 6, 5, 24]), ctx(true)));
    for (const h of store.statisticsHolders) h.commit();
    const x = input(rng, [3, 6, 5, 24]);
    const run = (fused: boolean) => {
      setReluFusion(fused);
      return tf.tidy(() => {
        const y = op.apply(x, ctx(false));
        const dx = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.square(op.apply(t as tf.Tensor4D, ctx(false)))),
        )(x);
        return { y: bits(y), dx: bits(dx) };
      });
    };
    const fused = run(true);
    const separate = run(false);
    expect(fused.y).toEqual(separate.y);
    expect(fused.dx).toEqual(separate.dx);
    tf.dispose([
      x,
      ...store.trainable.map((v) => v.variable),
      ...store.state.map((v) => v.variable),
    ]);
  });

  it('runs the fused kernel only on wasm and when turned on', async () => {
    const store = new ParameterStore(5);
    const layer = new ReluConv2d(store, 'conv', [4, 4, 8], { outChannels: 8, kernel: 1 });
    const strided = new ReluConv2d(store, 'conv2', [4, 4, 8], {
      outChannels: 8,
      kernel: 1,
      stride: 2,
    });
    const x = input(rng, [1, 4, 4, 8]);
    setReluFusion(true);
    const on = await tf.profile(() => layer.apply(x, ctx(true)));
    expect(on.kernelNames).toContain(RELU_CONV1X1_KERNEL);
    expect(on.kernelNames).not.toContain('Relu');
    expect(strided.fused(x)).toBe(false);
    setReluFusion(false);
    const off = await tf.profile(() => layer.apply(x, ctx(true)));
    expect(off.kernelNames).not.toContain(RELU_CONV1X1_KERNEL);
    expect(off.kernelNames).toContain('Relu');
    setReluFusion(true);
    await tf.setBackend('cpu');
    const xc = tf.tensor4d(x.dataSync(), [1, 4, 4, 8]);
    expect(layer.fused(xc)).toBe(false);
    tf.dispose([xc]);
    await tf.setBackend('wasm');
    tf.dispose([x, on.result as tf.Tensor, off.result as tf.Tensor]);
    tf.dispose(store.trainable.map((v) => v.variable));
  });

  it('a DARTS training step and an input gradient: bit-identical weights and gradients', () => {
    const build = () =>
      buildModel(
        { genotype: getPublishedGenotype('DARTS_V2') },
        { channels: 8, layers: 3, numClasses: 10, inputShape: [8, 8, 3], seed: 11 },
      );
    const x = tf.randomUniform([6, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const run = (fused: boolean) => {
      setReluFusion(fused);
      const model = build();
      const sgd = new Sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 3e-4 });
      trainStep(model, sgd, x, y);
      trainStep(model, sgd, x, y);
      const { gradient, logits } = inputGradient(model, x, y);
      const out = {
        weights: model.trainableVariables.map((v) => bits(v)),
        gradient: bits(gradient),
      };
      tf.dispose([gradient, logits]);
      sgd.dispose();
      model.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    const fused = run(true);
    const separate = run(false);
    expect(fused.weights.length).toBeGreaterThan(10);
    fused.weights.forEach((w, i) => expect(w).toEqual(separate.weights[i]));
    expect(fused.gradient).toEqual(separate.gradient);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
