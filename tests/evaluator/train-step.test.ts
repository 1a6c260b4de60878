import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { Sgd } from '../../src/evaluator/sgd.js';
import { trainStep } from '../../src/evaluator/train-step.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

beforeAll(async () => {
  await initBackend('cpu');
});

/** PyTorch's SGD on one scalar, by hand. */
function reference(
  p0: number,
  grads: number[],
  lr: number,
  momentum: number,
  wd: number,
  nesterov: boolean,
): number {
  let p = p0;
  let buf: number | undefined;
  for (const g0 of grads) {
    const g = g0 + wd * p;
    buf = buf === undefined ? g : momentum * buf + g;
    p -= lr * (nesterov ? g + momentum * buf : buf);
  }
  return p;
}

describe('Sgd', () => {
  it.each([
    [0, 0, false],
    [0.9, 0, false],
    [0.9, 0.01, false],
    [0.9, 0.01, true],
  ])(
    'momentum %s, weight decay %s, nesterov %s: matches torch.optim.SGD',
    (momentum, wd, nesterov) => {
      const p = tf.variable(tf.tensor1d([1.5]));
      const grads = [0.3, -0.2, 0.5];
      const opt = new Sgd({ learningRate: 0.1, momentum, weightDecay: wd, nesterov });
      for (const g of grads) {
        const t = tf.tensor1d([g]);
        opt.step([p], [t]);
        t.dispose();
      }
      expect(p.dataSync()[0]).toBeCloseTo(reference(1.5, grads, 0.1, momentum, wd, nesterov), 6);
      opt.dispose();
      p.dispose();
    },
  );
});

describe('trainStep', () => {
  function setup() {
    const model = buildModel(
      { genotype: getPublishedGenotype('DARTS_V2') },
      { channels: 4, layers: 2, numClasses: 3, inputShape: [8, 8, 1], seed: 7 },
    );
    const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 0], 'int32');
    return { model, x, y };
  }
  const snapshot = (vars: readonly tf.Variable[]) => vars.map((v) => Array.from(v.dataSync()));
  const moved = (a: number[][], b: number[][]) =>
    Math.sqrt(
      a.reduce((s, v, i) => s + v.reduce((t, x, k) => t + (x - (b[i]?.[k] ?? 0)) ** 2, 0), 0),
    );

  it('returns the cross-entropy of the batch as a finite positive number', () => {
    const { model, x, y } = setup();
    const loss = trainStep(model, new Sgd({ learningRate: 0 }), x, y);
    expect(loss).toBeGreaterThan(0);
    expect(loss).toBeLessThan(10);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('clips the total gradient norm: an update of lr * clip at most', () => {
    const { model, x, y } = setup();
    const before = snapshot(model.trainableVariables);
    trainStep(model, new Sgd({ learningRate: 1 }), x, y, { gradClip: 1e-3 });
    const step = moved(snapshot(model.trainableVariables), before);
    expect(step).toBeLessThanOrEqual(1e-3 * 1.0001);
    expect(step).toBeGreaterThan(0);
    model.dispose();
    tf.dispose([x, y]);
  });
});
