import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/evaluator/backend.js';
import { ATTACK_REGISTRY, getAttack } from '../../src/evaluator/attacks/index.js';
import { loadDataset } from '../../src/evaluator/datasets/load.js';
import { sliceBatch, type Batch } from '../../src/evaluator/datasets/tensors.js';
import { accuracyEstimate, countCorrect, robustnessCurve } from '../../src/evaluator/metrics.js';
import { ATTACKS, attackSpecSchema, type AttackName } from '../../src/core/evaluation.js';
import { Rng } from '../../src/core/rng.js';
import { createTinyModel, type TinyModel } from '../helpers/tiny-model.js';

let model: TinyModel;
let test: Batch;
const spec = (name: AttackName, eps: number, steps = 10) =>
  attackSpecSchema.parse({ name, eps, steps });

/** Adversarial accuracy of `name` at `eps` on the test batch; checks that nothing leaks. */
function attackAccuracy(name: AttackName, eps: number, steps = 10, seed = 1): number {
  const before = tf.memory().numTensors;
  const adv = getAttack(name)(model, test.x, test.y, spec(name, eps, steps), Rng.fromSeed(seed));
  const correct = countCorrect(model, adv, test.y);
  adv.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return correct / test.x.shape[0];
}

beforeAll(async () => {
  await initBackend('cpu');
  const data = await loadDataset('synthetic', { syntheticSizes: { train: 1500, test: 300 } });
  model = createTinyModel([16, 16, 1], 10, 3);
  const train = sliceBatch(data.train, 0, data.train.count);
  const opt = tf.train.sgd(0.1);
  for (let epoch = 0; epoch < 15; epoch++) {
    for (let start = 0; start < 1500; start += 100) {
      tf.tidy(() => {
        const xb = tf.slice(train.x, [start, 0, 0, 0], [100, 16, 16, 1]);
        const yb = tf.slice(train.y, [start], [100]);
        opt.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(
              tf.oneHot(yb, 10),
              model.apply(xb, { training: true }).logits,
            ) as tf.Scalar,
          false,
          model.trainableVariables as tf.Variable[],
        );
      });
    }
  }
  opt.dispose();
  tf.dispose([train.x, train.y]);
  test = sliceBatch(data.test, 0, 300);
});

afterAll(() => {
  tf.dispose([test.x, test.y]);
  model.dispose();
});

describe('attacks on a trained classifier (cpu backend)', () => {
  it('the classifier learned the synthetic set (clean accuracy > 0.9)', () => {
    expect(countCorrect(model, test.x, test.y) / 300).toBeGreaterThan(0.9);
  });

  it('eps = 0: every attack returns the clean images, so adversarial accuracy = clean', () => {
    const clean = countCorrect(model, test.x, test.y);
    for (const name of ATTACKS) {
      const adv = getAttack(name)(model, test.x, test.y, spec(name, 0), Rng.fromSeed(5));
      expect(tf.max(tf.abs(tf.sub(adv, test.x))).dataSync()[0]).toBe(0);
      expect(countCorrect(model, adv, test.y)).toBe(clean);
      adv.dispose();
    }
  });

  it('every adversarial example lies within eps of its input and inside [0, 1]', () => {
    for (const name of ATTACKS) {
      for (const eps of [0.03, 0.1, 0.3]) {
        const adv = getAttack(name)(model, test.x, test.y, spec(name, eps, 5), Rng.fromSeed(9));
        const [dist, lo, hi] = tf.tidy(() => [
          tf.max(tf.abs(tf.sub(adv, test.x))).dataSync()[0] as number,
          tf.min(adv).dataSync()[0] as number,
          tf.max(adv).dataSync()[0] as number,
        ]);
        expect(dist, `${name} eps ${eps}`).toBeLessThanOrEqual(eps + 1e-6);
        expect(dist, `${name} eps ${eps} moves the images`).toBeGreaterThan(0);
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(1);
        adv.dispose();
      }
    }
  });

  it('PGD is at least as strong as FGSM, APGD-CE at least as strong as PGD, and all hurt', () => {
    const eps = 0.03;
    const clean = countCorrect(model, test.x, test.y) / 300;
    const fgsm = attackAccuracy('fgsm', eps);
    const pgd = attackAccuracy('pgd', eps, 10);
    const apgd = attackAccuracy('apgd-ce', eps, 10);
    const rfgsm = attackAccuracy('rfgsm', eps);
    const stepll = attackAccuracy('stepll', eps);
    expect(fgsm).toBeLessThan(clean);
    expect(pgd).toBeLessThan(fgsm);
    expect(apgd).toBeLessThanOrEqual(pgd);
    expect(rfgsm).toBeLessThan(clean);
    expect(stepll).toBeLessThan(clean);
    console.log({ clean, fgsm, pgd, apgd, rfgsm, stepll });
  });

  it('more PGD steps and restarts never help the model much; accuracy falls with eps', () => {
    const curve = [0, 0.05, 0.1, 0.2].map((eps) => ({ eps, accuracy: attackAccuracy('pgd', eps) }));
    for (let i = 1; i < curve.length; i++) {
      expect(curve[i]!.accuracy).toBeLessThanOrEqual(curve[i - 1]!.accuracy);
    }
    const { mean } = robustnessCurve(curve);
    expect(mean).toBeCloseTo(curve.reduce((s, p) => s + p.accuracy, 0) / 4, 10);
    const restarts = getAttack('pgd')(
      model,
      test.x,
      test.y,
      attackSpecSchema.parse({ name: 'pgd', eps: 0.05, steps: 10, restarts: 3 }),
      Rng.fromSeed(1),
    );
    expect(countCorrect(model, restarts, test.y) / 300).toBeLessThanOrEqual(
      attackAccuracy('pgd', 0.05, 10, 1),
    );
    restarts.dispose();
  });

  it('attacks are deterministic for a seed', () => {
    for (const name of ['pgd', 'rfgsm', 'apgd-ce'] as const) {
      const a = getAttack(name)(model, test.x, test.y, spec(name, 0.1, 3), Rng.fromSeed(4));
      const b = getAttack(name)(model, test.x, test.y, spec(name, 0.1, 3), Rng.fromSeed(4));
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
      tf.dispose([a, b]);
    }
    expect(Object.keys(ATTACK_REGISTRY).sort()).toEqual([...ATTACKS].sort());
  });
});

describe('metrics', () => {
  it('accuracy with standard error sqrt(p(1-p)/n)', () => {
    expect(accuracyEstimate(80, 100)).toEqual({ accuracy: 0.8, stderr: Math.sqrt(0.0016), n: 100 });
    expect(accuracyEstimate(0, 0)).toEqual({ accuracy: 0, stderr: 0, n: 0 });
    expect(() => accuracyEstimate(5, 4)).toThrow(RangeError);
  });
});
