/**
 * The lean backward pass (frees saved tensors and gradients as it goes) against tfjs-core's own:
 * bit-identical gradients on a real DARTS network (training step and input gradient, cpu and wasm)
 * and on graphs with shared tensors, explicit dy, customGrad ops and second-order gradients; no
 * leaked tensors; and a lower peak of live tensor memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { inputGradient } from '../../src/evaluator/input-gradient.js';
import { leanGradientsInstalled, withTfjsGradients } from '../../src/evaluator/lean-gradients.js';
import { crossEntropy } from '../../src/evaluator/softmax-cross-entropy.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

function tinyDarts() {
  return buildModel(
    { genotype: getPublishedGenotype('DARTS_V2') },
    { channels: 4, layers: 3, numClasses: 5, inputShape: [8, 8, 3], seed: 3 },
  );
}

/** Gradients of the training loss w.r.t. every trainable variable, as arrays. */
function trainingGrads(model: ReturnType<typeof tinyDarts>, x: tf.Tensor4D, y: tf.Tensor1D) {
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(x, { training: true });
    return crossEntropy(out.logits, y);
  }, model.trainableVariables as tf.Variable[]);
  model.discardBatchStatistics?.();
  const arrays = model.trainableVariables.map((v) => grads[v.name]!.dataSync().slice());
  const loss = value.dataSync()[0];
  value.dispose();
  tf.dispose(Object.values(grads));
  return { loss, arrays };
}

describe.each(['cpu', 'wasm'] as const)('lean backward pass on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('is installed', () => {
    expect(leanGradientsInstalled()).toBe(true);
  });

  it('gives bit-identical training gradients and input gradients on a DARTS network', () => {
    const model = tinyDarts();
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const y = tf.tensor1d([0, 4, 2], 'int32');
    try {
      const before = tf.memory().numTensors;
      const lean = trainingGrads(model, x, y);
      expect(tf.memory().numTensors).toBe(before);
      const ref = withTfjsGradients(() => trainingGrads(model, x, y));
      expect(lean.loss).toBe(ref.loss);
      expect(lean.arrays.length).toBe(ref.arrays.length);
      lean.arrays.forEach((a, i) => expect(a).toEqual(ref.arrays[i]));

      const g1 = inputGradient(model, x, y);
      const g2 = withTfjsGradients(() => inputGradient(model, x, y));
      expect(g1.gradient.dataSync()).toEqual(g2.gradient.dataSync());
      tf.dispose([g1.gradient, g1.logits, g2.gradient, g2.logits]);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
      tf.dispose([x, y]);
    }
  });

  it('handles shared tensors, explicit dy, several xs, customGrad and second order', () => {
    const before = tf.memory().numTensors;
    const a = tf.tensor2d([
      [1, -2, 3],
      [0.5, 4, -1],
    ]);
    const b = tf.tensor2d([
      [2, 1, 0],
      [-3, 1, 2],
    ]);
    const dy = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const square = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const t = args[0] as tf.Tensor;
      (args[1] as tf.GradSaveFunc)([t]);
      return {
        value: tf.mul(t, t),
        gradFunc: (g: tf.Tensor, saved: tf.Tensor[]) => tf.mul(g, tf.mul(saved[0]!, 2)),
      };
    });
    const f = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => {
      const s = tf.add(p, q);
      const r = tf.relu(s);
      return tf.add(
        tf.mul(tf.concat([r, s], 1), tf.concat([p, p], 1)),
        tf.tile(square(q) as tf.Tensor, [1, 2]),
      );
    };
    const run = () =>
      tf.tidy(() => {
        const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => f(p, q))(
          [a, b],
          tf.concat([dy, dy], 1),
        );
        const scalarGrads = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(f(p, q)))([a, b]);
        const second = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.grad((u: tf.Tensor) => tf.sum(tf.mul(tf.mul(u, u), u)))(t)),
        )(a);
        return [ga!, gb!, ...scalarGrads, second].map((t) => t.dataSync().slice());
      });
    const lean = run();
    const ref = withTfjsGradients(run);
    lean.forEach((v, i) => expect(v).toEqual(ref[i]));
    // d/da sum(d/da sum(a^3)) = 6a
    expect(Array.from(lean[4]!)).toEqual(Array.from(a.dataSync()).map((v) => 6 * v));
    tf.dispose([a, b, dy]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/**
 * Live bytes of tensor data held by the wasm backend: counted at each allocation (move) and each
 * real free (disposeData returning true), with the peak since the last reset.
 */
function meterWasmBytes() {
  const backend = tf.backend() as unknown as {
    move(dataId: object, values: unknown, shape: number[], dtype: string, rc: number): void;
    disposeData(dataId: object, force?: boolean): boolean;
    dataIdMap: { get(d: object): { shape: number[]; dtype: string } | undefined };
  };
  const size = (shape: number[]) => shape.reduce((a, d) => a * d, 1) * 4;
  const state = { live: 0, peak: 0 };
  const move = backend.move;
  const disposeData = backend.disposeData;
  backend.move = function (dataId, values, shape, dtype, rc) {
    move.call(this, dataId, values, shape, dtype, rc);
    state.live += size(shape);
    state.peak = Math.max(state.peak, state.live);
  };
  backend.disposeData = function (dataId, force) {
    const d = backend.dataIdMap.get(dataId);
    const freed = disposeData.call(this, dataId, force);
    if (d && freed) state.live -= size(d.shape);
    return freed;
  };
  return {
    /** Peak live bytes above the level at the last reset. */
    measure(fn: () => void): number {
      const base = state.live;
      state.peak = base;
      fn();
      return state.peak - base;
    },
    restore() {
      backend.move = move;
      backend.disposeData = disposeData;
    },
  };
}

describe('lean backward pass memory', () => {
  it('holds less live tensor data than tfjs-core during a training step (wasm)', async () => {
    await initBackend('wasm');
    const model = tinyDarts();
    const x = tf.randomUniform([8, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 3, 4, 0, 1, 2], 'int32');
    const meter = meterWasmBytes();
    try {
      const step = () => {
        const { value, grads } = tf.variableGrads(
          () => crossEntropy(model.apply(x, { training: true }).logits, y),
          model.trainableVariables as tf.Variable[],
        );
        model.discardBatchStatistics?.();
        value.dispose();
        tf.dispose(Object.values(grads));
      };
      step();
      const lean = meter.measure(step);
      const ref = withTfjsGradients(() => meter.measure(step));
      expect(lean).toBeGreaterThan(0);
      expect(lean).toBeLessThan(ref * 0.8);
    } finally {
      meter.restore();
      model.dispose();
      tf.dispose([x, y]);
    }
  });
});
