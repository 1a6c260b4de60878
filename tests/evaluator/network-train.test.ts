import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Cast, Identity, Slice, type KernelConfig } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { inputGradient } from '../../src/evaluator/input-gradient.js';
import {
  DepthwiseConv2d,
  dilatedGradientsOnBackend,
} from '../../src/evaluator/layers/depthwise-conv2d.js';
import { conv2dWithBias } from '../../src/evaluator/layers/fused-conv2d.js';
import { ParameterStore } from '../../src/evaluator/layers/parameter-store.js';
import type { Model } from '../../src/evaluator/model.js';
import { Sgd } from '../../src/evaluator/sgd.js';
import { SGD_UPDATE_KERNEL } from '../../src/evaluator/wasm-kernels/sgd-update.js';
import { trainStep } from '../../src/evaluator/train-step.js';
import { loadWeights, saveWeights } from '../../src/evaluator/weights.js';
import { InputError } from '../../src/core/errors.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

const SHAPE: [number, number, number] = [12, 12, 3];
const dir = mkdtempSync(join(tmpdir(), 'robust-nas-weights-'));

function smallModel(name: string, seed: number, auxiliary = false): Model {
  return buildModel(
    { genotype: getPublishedGenotype(name) },
    {
      channels: 4,
      layers: 3,
      numClasses: 4,
      inputShape: SHAPE,
      seed,
      auxiliary,
      normalization: { mean: [0.5, 0.4, 0.3], std: [0.25, 0.25, 0.25] },
    },
  );
}

function batch(n: number) {
  const x = tf.randomUniform([n, ...SHAPE], 0, 1, 'float32', 11) as tf.Tensor4D;
  const y = tf.tensor1d(
    Array.from({ length: n }, (_, i) => i % 4),
    'int32',
  );
  return { x, y };
}

/** tfjs-backend-wasm's own Identity and Cast (which copy), taken before ours replace them. */
const copyingKernels = [Identity, Cast].map((name) => tf.getKernel(name, 'wasm') as KernelConfig);
/** tfjs-backend-wasm's own Slice, likewise. */
const originalSlice = tf.getKernel(Slice, 'wasm') as KernelConfig;

beforeAll(async () => {
  await initBackend('wasm');
});

function swapKernels(configs: readonly KernelConfig[]): KernelConfig[] {
  return configs.map((config) => {
    const previous = tf.getKernel(config.kernelName, 'wasm') as KernelConfig;
    tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
    return previous;
  });
}

function numDataIds(): number {
  return (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training on wasm', () => {
  it.each(['DARTS_V2', 'PDARTS'])('%s: the loss falls on a fixed batch', (name) => {
    const model = smallModel(name, 1);
    const { x, y } = batch(8);
    const opt = new Sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 3e-4 });
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) losses.push(trainStep(model, opt, x, y, { gradClip: 5 }));
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan((losses[0] as number) * 0.8);
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it('leaves no tensor behind after a training step (aux head, drop-path) and an input-gradient step', () => {
    const model = smallModel('PDARTS', 2, true);
    const { x, y } = batch(4);
    const opt = new Sgd({ learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 3e-4 });
    const options = { gradClip: 5, auxiliaryWeight: 0.4, dropPathProb: 0.2 };
    trainStep(model, opt, x, y, options); // creates the momentum buffers
    const before = tf.memory().numTensors;
    trainStep(model, opt, x, y, options);
    expect(tf.memory().numTensors).toBe(before);
    const g = inputGradient(model, x, y);
    expect(g.gradient.shape).toEqual(x.shape);
    expect(tf.tidy(() => tf.max(tf.abs(g.gradient)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([g.gradient, g.logits]);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  it('updates BN running statistics only on commit (training step), not in inference', () => {
    const model = smallModel('DARTS_V2', 3);
    const { x, y } = batch(4);
    const state = () => Array.from(model.stateVariables[0]?.dataSync() ?? []);
    const initial = state();
    tf.dispose(model.apply(x, { training: false }).logits);
    expect(state()).toEqual(initial);
    const opt = new Sgd({ learningRate: 0.01 });
    trainStep(model, opt, x, y);
    expect(state()).not.toEqual(initial);
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });
});

describe('weights files', () => {
  it('save -> load gives identical logits', async () => {
    const a = smallModel('DARTS_V2', 4);
    const { x, y } = batch(4);
    const opt = new Sgd({ learningRate: 0.05, momentum: 0.9 });
    trainStep(a, opt, x, y);
    const file = join(dir, 'w.bin');
    await saveWeights(a, file, { genotype: 'DARTS_V2' });
    const b = smallModel('DARTS_V2', 99);
    const header = await loadWeights(b, file);
    expect(header.meta).toEqual({ genotype: 'DARTS_V2' });
    const la = a.apply(x, { training: false }).logits;
    const lb = b.apply(x, { training: false }).logits;
    expect(Array.from(lb.dataSync())).toEqual(Array.from(la.dataSync()));
    tf.dispose([la, lb, x, y]);
    opt.dispose();
    a.dispose();
    b.dispose();
  });

  it('rejects a file that does not fit the model, or is not a weights file', async () => {
    const a = smallModel('DARTS_V2', 5);
    const file = join(dir, 'v2.bin');
    await saveWeights(a, file);
    const other = smallModel('PDARTS', 5);
    await expect(loadWeights(other, file)).rejects.toThrow(InputError);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'hello world, not weights');
    await expect(loadWeights(a, junk)).rejects.toThrow(/not a robust-nas weights file/);
    a.dispose();
    other.dispose();
  });
});

describe('wasm Identity and Cast share data instead of copying', () => {
  function run(steps: number): { losses: number[]; logits: number[]; gradient: number[] } {
    const model = smallModel('DARTS_V2', 6, true);
    const { x, y } = batch(4);
    const opt = new Sgd({ learningRate: 0.05, momentum: 0.9, weightDecay: 3e-4 });
    const options = { gradClip: 5, auxiliaryWeight: 0.4, dropPathProb: 0.2 };
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(trainStep(model, opt, x, y, options));
    const g = inputGradient(model, x, y);
    const out = { losses, logits: [...g.logits.dataSync()], gradient: [...g.gradient.dataSync()] };
    tf.dispose([g.gradient, g.logits, x, y]);
    opt.dispose();
    model.dispose();
    return out;
  }

  it('an Identity output shares its input data; disposing either keeps the other intact', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const before = numDataIds();
    const y = tf.engine().runKernel(Identity, { x }) as tf.Tensor;
    const z = tf.cast(x, 'float32');
    expect(numDataIds()).toBe(before);
    x.dispose();
    expect([...y.dataSync()]).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect([...z.dataSync()]).toEqual([1, 2, 3, 4]);
    expect(numDataIds()).toBe(before);
    z.dispose();
    expect(numDataIds()).toBe(before - 1);
    const i = tf.tensor1d([1, 2], 'int32');
    const f = tf.cast(i, 'float32'); // a real cast still converts
    expect(f.dtype).toBe('float32');
    expect([...f.dataSync()]).toEqual([1, 2]);
    tf.dispose([i, f]);
  });

  it('training and input gradients give bit-identical results, and every buffer is freed', () => {
    const tensors = tf.memory().numTensors;
    const ids = numDataIds();
    const shared = run(6);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(numDataIds()).toBe(ids);
    const ours = swapKernels(copyingKernels);
    expect(ours.map((k) => k.kernelFunc)).not.toContain(copyingKernels[0]?.kernelFunc);
    let copied: ReturnType<typeof run>;
    try {
      copied = run(6);
    } finally {
      swapKernels(ours);
    }
    expect(shared.losses).toEqual(copied.losses);
    expect(shared.logits).toEqual(copied.logits);
    expect(shared.gradient).toEqual(copied.gradient);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(numDataIds()).toBe(ids);
  });
});

describe('dilated depthwise conv', () => {
  /** Output, input gradient and filter gradient of a dilated depthwise layer on the current backend. */
  function outputAndGradients(k: number, size: number) {
    const store = new ParameterStore(5);
    const layer = new DepthwiseConv2d(store, 'dw', [size, size, 3], {
      kernel: k,
      stride: 1,
      padding: k - 1,
      dilation: 2,
    });
    const weight = store.trainable[0]?.variable as tf.Variable;
    const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 9) as tf.Tensor4D;
    const upstream = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 10);
    const f = (input: tf.Tensor) =>
      tf.sum(tf.mul(layer.apply(input as tf.Tensor4D), upstream)) as tf.Scalar;
    const y = [...tf.tidy(() => layer.apply(x)).dataSync()];
    const dx = tf.grad(f)(x);
    const { grads } = tf.variableGrads(() => f(x), [weight]);
    const out = {
      y,
      dx: [...dx.dataSync()],
      dw: [...(grads[weight.name] as tf.Tensor).dataSync()],
    };
    tf.dispose([x, upstream, dx, ...Object.values(grads), weight]);
    return out;
  }

  it.each([
    [3, 8],
    [5, 9],
  ])('k=%i on %i: the direct wasm conv matches the cpu phase-split one', async (k, size) => {
    expect(dilatedGradientsOnBackend()).toBe(true);
    const wasm = outputAndGradients(k, size);
    await initBackend('cpu');
    try {
      expect(dilatedGradientsOnBackend()).toBe(false);
      const cpu = outputAndGradients(k, size);
      for (const key of ['y', 'dx', 'dw'] as const) {
        expect(wasm[key].length).toBe(cpu[key].length);
        wasm[key].forEach((v, i) => expect(v).toBeCloseTo(cpu[key][i] as number, 4));
      }
    } finally {
      await initBackend('wasm');
    }
  });
});

describe('wasm Slice copies between heap views', () => {
  it('matches tfjs-backend-wasm own Slice on random slices of rank 1 to 6, float and int', () => {
    let seed = 1;
    const next = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const cases: {
      shape: number[];
      begin: number[];
      size: number[];
      dtype: 'float32' | 'int32';
    }[] = [];
    for (let i = 0; i < 60; i++) {
      const rank = 1 + (i % 6);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(next() * 5));
      const begin = shape.map((d) => Math.floor(next() * d));
      const size = shape.map((d, j) =>
        next() < 0.3
          ? d - (begin[j] as number)
          : 1 + Math.floor(next() * (d - (begin[j] as number))),
      );
      cases.push({ shape, begin, size, dtype: i % 3 === 0 ? 'int32' : 'float32' });
    }
    // Whole tensor, an empty slice, and FactorizedReduce's shifted NHWC slice.
    cases.push({ shape: [2, 3, 4], begin: [0, 0, 0], size: [2, 3, 4], dtype: 'float32' });
    cases.push({ shape: [2, 3, 4], begin: [1, 0, 0], size: [1, 0, 4], dtype: 'float32' });
    cases.push({ shape: [2, 7, 7, 5], begin: [0, 1, 1, 0], size: [2, 6, 6, 5], dtype: 'float32' });
    const slices = (): number[][] =>
      cases.map(({ shape, begin, size, dtype }) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = tf.tensor(
          Array.from({ length: n }, (_, i) => i),
          shape,
          dtype,
        );
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(size);
        const values = [...y.dataSync()];
        tf.dispose([x, y]);
        return values;
      });
    const ours = slices();
    const [mine] = swapKernels([originalSlice]);
    expect(mine?.kernelFunc).not.toBe(originalSlice.kernelFunc);
    let theirs: number[][];
    try {
      theirs = slices();
    } finally {
      swapKernels([mine as KernelConfig]);
    }
    expect(ours).toEqual(theirs);
  });
});

describe('fused SGD update on wasm', () => {
  it.each([
    [0, 0, false],
    [0.9, 0, false],
    [0.9, 3e-4, false],
    [0.9, 3e-4, true],
  ])(
    'momentum %s, weight decay %s, nesterov %s: bit-identical to the op-by-op update',
    (momentum, wd, nesterov) => {
      const shapes = [[3, 3, 4, 5], [7], [2, 6]];
      const run = () => {
        const ps = shapes.map((s, i) => {
          const init = tf.randomUniform(s, -1, 1, 'float32', i + 1);
          const p = tf.variable(init);
          init.dispose();
          return p;
        });
        const opt = new Sgd({ learningRate: 0.05, momentum, weightDecay: wd, nesterov });
        for (let step = 0; step < 3; step++) {
          const gs = shapes.map((s, i) => tf.randomUniform(s, -1, 1, 'float32', 10 * step + i));
          opt.step(ps, gs);
          tf.dispose(gs);
        }
        const values = ps.map((p) => [...p.dataSync()]);
        opt.dispose();
        tf.dispose(ps);
        return values;
      };
      const before = tf.memory().numTensors;
      const fused = run();
      expect(tf.memory().numTensors).toBe(before);
      const kernel = tf.getKernel(SGD_UPDATE_KERNEL, 'wasm') as KernelConfig;
      tf.unregisterKernel(SGD_UPDATE_KERNEL, 'wasm');
      let plain: number[][];
      try {
        plain = run();
      } finally {
        tf.registerKernel(kernel);
      }
      expect(fused).toEqual(plain);
    },
  );
});

describe('conv with bias in one kernel on wasm', () => {
  it('value and gradients (x, filter, bias) equal conv + bias, with a reshaped bias view', () => {
    const x = tf.randomUniform([2, 8, 8, 5], -1, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomUniform([1, 1, 5, 6], -1, 1, 'float32', 2) as tf.Tensor4D;
    const rows = tf.randomUniform([1, 6], -1, 1, 'float32', 3);
    const b = tf.reshape(rows, [6]) as tf.Tensor1D; // shares a [1, 6] buffer
    const up = tf.randomUniform([2, 4, 4, 6], -1, 1, 'float32', 4);
    const grads = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor4D) =>
      tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(f(xx as tf.Tensor4D, ww as tf.Tensor4D, bb as tf.Tensor1D), up)),
      )([x, w, b]);
    const fused = grads((xx, ww, bb) => conv2dWithBias(xx, ww, bb, [2, 2], 0));
    const plain = grads((xx, ww, bb) => tf.add(tf.conv2d(xx, ww, 2, 0), bb));
    fused.forEach((g, i) => {
      const diff = tf.max(tf.abs(tf.sub(g, plain[i] as tf.Tensor))).dataSync()[0] as number;
      expect(diff).toBeLessThan(1e-4);
    });
    tf.dispose([x, w, rows, b, up, ...fused, ...plain]);
  });
});
