/**
 * APGD-T, Square and the worst-case suite on a network trained a little on the bundled MNIST copy
 * (data/mnist): a one-hidden-layer classifier (tests/helpers/tiny-model.ts), 2 epochs over 2000
 * images, attacked on 48 test images at small budgets so the test stays quick on a busy machine.
 */
import * as tf from '@tensorflow/tfjs-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackSpecSchema, type AttackName, type AttackSpec } from '../../src/core/evaluation.js';
import { Rng } from '../../src/core/rng.js';
import { getAttack } from '../../src/evaluator/attacks/index.js';
import { runAttackSuite, type SuiteAttack } from '../../src/evaluator/attacks/suite.js';
import type { Classifier } from '../../src/evaluator/attacks/types.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { loadDataset } from '../../src/evaluator/datasets/load.js';
import { sliceBatch, type Batch } from '../../src/evaluator/datasets/tensors.js';
import { countCorrect, countRobust } from '../../src/evaluator/metrics.js';
import { createTinyModel, type TinyModel } from '../helpers/tiny-model.js';

const EPS = 0.1;
const N = 48;
let model: TinyModel;
let test: Batch;
let clean: number;

type Strong = 'apgd-t' | 'fab-t' | 'square';
/** Small budgets: APGD-T and FAB-T 10 iterations x 3 targets, Square 300 queries. */
const SMALL: Readonly<Record<Strong, object>> = {
  'apgd-t': { steps: 10, targets: 3 },
  'fab-t': { steps: 10, targets: 3 },
  square: { queries: 300 },
};
const spec = (name: Strong, eps = EPS): AttackSpec =>
  attackSpecSchema.parse({ name, eps, ...SMALL[name] });

function run(name: AttackName, s: AttackSpec, seed: number, on: Classifier = model): tf.Tensor4D {
  return getAttack(name)(on, test.x, test.y, s, Rng.fromSeed(seed));
}

beforeAll(async () => {
  await initBackend('wasm');
  const data = await loadDataset('mnist', {
    env: { ROBUST_NAS_CACHE: join(tmpdir(), 'robust-nas-no-cache') },
    download: false,
  });
  expect(data.source).toBe('bundled');
  model = createTinyModel([28, 28, 1], 10, 7, 32);
  const train = sliceBatch(data.train, 0, 2000);
  const opt = tf.train.sgd(0.2);
  for (let epoch = 0; epoch < 2; epoch++) {
    for (let start = 0; start < 2000; start += 50) {
      tf.tidy(() => {
        const xb = tf.slice(train.x, [start, 0, 0, 0], [50, 28, 28, 1]);
        const yb = tf.slice(train.y, [start], [50]);
        opt.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(
              tf.oneHot(tf.cast(yb, 'int32'), 10),
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
  test = sliceBatch(data.test, 0, N);
  clean = countCorrect(model, test.x, test.y);
});

afterAll(() => {
  tf.dispose([test.x, test.y]);
  model.dispose();
});

describe('APGD-T, FAB-T and Square on a trained MNIST classifier (wasm backend)', () => {
  it('the classifier learned (clean accuracy > 80% on 48 test images)', () => {
    expect(clean / N).toBeGreaterThan(0.8);
  });

  for (const name of ['apgd-t', 'fab-t', 'square'] as const) {
    it(`${name}: within eps and [0, 1], deterministic for a seed, no tensor left, never above clean`, () => {
      const before = tf.memory().numTensors;
      const a = run(name, spec(name), 3);
      const b = run(name, spec(name), 3);
      const [dist, lo, hi, diff] = tf.tidy(() => [
        tf.max(tf.abs(tf.sub(a, test.x))).dataSync()[0]!,
        tf.min(a).dataSync()[0]!,
        tf.max(a).dataSync()[0]!,
        tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!,
      ]);
      expect(dist).toBeLessThanOrEqual(EPS + 1e-6);
      expect(dist, 'moves some image').toBeGreaterThan(0);
      expect(lo).toBeGreaterThanOrEqual(0);
      expect(hi).toBeLessThanOrEqual(1);
      expect(diff).toBe(0);
      const robust = countRobust(model, test.x, a, test.y);
      expect(robust).toBeLessThanOrEqual(clean);
      expect(robust, `${name} fools some image at eps ${EPS}`).toBeLessThan(clean);
      tf.dispose([a, b]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it(`${name}: eps 0 returns the clean images`, () => {
      const adv = run(name, spec(name, 0), 1);
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(adv, test.x))).dataSync()[0])).toBe(0);
      adv.dispose();
    });
  }

  it('APGD-T: more target classes never help the model (the first target runs alike)', () => {
    const three = run('apgd-t', spec('apgd-t'), 5);
    const one = run(
      'apgd-t',
      attackSpecSchema.parse({ name: 'apgd-t', eps: EPS, steps: 10, targets: 1 }),
      5,
    );
    expect(countRobust(model, test.x, three, test.y)).toBeLessThanOrEqual(
      countRobust(model, test.x, one, test.y),
    );
    tf.dispose([three, one]);
  });

  it('Square needs no gradient: it works on a model whose logits leave the tape, where PGD cannot', () => {
    // Logits copied out as plain numbers: any gradient of them with respect to the input is lost.
    const opaque: Classifier = {
      inputShape: model.inputShape,
      numClasses: model.numClasses,
      apply: (x, options) => {
        const logits = model.apply(x, options).logits;
        const copy = tf.tensor2d(logits.dataSync(), logits.shape);
        logits.dispose();
        return { logits: copy };
      },
    };
    const pgdSpec = attackSpecSchema.parse({ name: 'pgd', eps: EPS, steps: 2 });
    expect(() => run('pgd', pgdSpec, 1, opaque)).toThrow();
    const before = tf.memory().numTensors;
    const viaOpaque = run('square', spec('square'), 4, opaque);
    const direct = run('square', spec('square'), 4);
    // Same queries, same answers: the same adversarial images as through the plain model.
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(viaOpaque, direct))).dataSync()[0])).toBe(0);
    expect(countRobust(model, test.x, viaOpaque, test.y)).toBeLessThan(clean);
    tf.dispose([viaOpaque, direct]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('worst-case suite', () => {
  const suite: SuiteAttack[] = [
    { name: 'apgd-ce', steps: 10 },
    { name: 'apgd-t', steps: 10, targets: 3 },
    { name: 'fab-t', steps: 10, targets: 3 },
    { name: 'square', queries: 300 },
  ];

  it('robust accuracy <= PGD at the same eps, counted per image as AutoAttack counts', async () => {
    const before = tf.memory().numTensors;
    const progress: string[] = [];
    const result = await runAttackSuite(model, test.x, test.y, EPS, Rng.fromSeed(11), {
      attacks: suite,
      batchSize: 20,
      onProgress: (p) => progress.push(`${p.attack} ${p.done}/${p.total}`),
    });
    expect(tf.memory().numTensors).toBe(before);

    const pgdAdv = run('pgd', attackSpecSchema.parse({ name: 'pgd', eps: EPS, steps: 10 }), 11);
    const pgd = countRobust(model, test.x, pgdAdv, test.y);
    pgdAdv.dispose();

    expect(result.clean).toEqual({ accuracy: clean / N, stderr: expect.any(Number), n: N });
    expect(result.robust.n).toBe(N);
    expect(result.robust.accuracy * N).toBeLessThanOrEqual(pgd);
    expect(result.robust.accuracy).toBeLessThan(result.clean.accuracy);
    console.log({
      clean: clean / N,
      pgd: pgd / N,
      suite: result.robust.accuracy,
      attacks: result.attacks.map((a) => [a.attack, a.fooled, a.robustAfter.accuracy]),
    });

    // Per attack: it attacks what is still robust; robust accuracy never rises along the suite.
    let robustBefore = clean;
    for (const a of result.attacks) {
      expect(a.attacked).toBe(robustBefore);
      expect(a.robustAfter.accuracy * N).toBeCloseTo(robustBefore - a.fooled, 9);
      robustBefore -= a.fooled;
    }
    expect(result.robust.accuracy * N).toBeCloseTo(robustBefore, 9);
    expect(result.robustImages.reduce((s, v) => s + v, 0)).toBe(robustBefore);
    expect(result.attacks.map((a) => a.budget)).toEqual([
      { steps: 10, restarts: 1 },
      { steps: 10, targets: 3, restarts: 1 },
      { steps: 10, targets: 3, restarts: 1 },
      { queries: 300, restarts: 1 },
    ]);
    expect(result.autoAttack).toBe(false);
    expect(result.description).toBe(
      'worst case per image over APGD-CE (10 iterations, 1 restart), APGD-T (10 iterations, 3 targets, 1 restart), FAB-T (10 iterations, 3 targets, 1 restart), Square (300 queries, 1 restart) at L-inf eps 0.1 on 48 images: ' +
        "not AutoAttack: APGD-CE, APGD-T, FAB-T, Square below AutoAttack's standard budget",
    );
    expect(progress[0]).toBe(`apgd-ce 0/${Math.ceil(clean / 20)}`);

    // Deterministic: the same rng seed gives the same images robust.
    const again = await runAttackSuite(model, test.x, test.y, EPS, Rng.fromSeed(11), {
      attacks: suite,
      batchSize: 20,
    });
    expect(Array.from(again.robustImages)).toEqual(Array.from(result.robustImages));
  });

  it('refuses bad input with a clear error', async () => {
    await expect(
      runAttackSuite(model, test.x, test.y, EPS, Rng.fromSeed(1), {
        attacks: [{ name: 'square', queries: 0 }],
      }),
    ).rejects.toThrow(/attack 0 \(square\): queries/);
    await expect(runAttackSuite(model, test.x, test.y, 2, Rng.fromSeed(1))).rejects.toThrow(/eps/);
    await expect(
      runAttackSuite(model, test.x, test.y, EPS, Rng.fromSeed(1), { attacks: [] }),
    ).rejects.toThrow(/at least one attack/);
    const y = tf.slice(test.y, [0], [3]);
    await expect(runAttackSuite(model, test.x, y, EPS, Rng.fromSeed(1))).rejects.toThrow(
      /48 images but 3 labels/,
    );
    y.dispose();
  });

  it('stops between batches when aborted', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const pending = runAttackSuite(model, test.x, test.y, EPS, Rng.fromSeed(1), {
      attacks: suite,
      batchSize: 8,
      onProgress: (p) => {
        if (p.done === 1) controller.abort(new Error('stopped by the test'));
      },
      signal: controller.signal,
    });
    await expect(pending).rejects.toThrow('stopped by the test');
    expect(tf.memory().numTensors).toBe(before);
  });
});
