/**
 * The strong attacks' arithmetic against hand-computed values: the DLR-targeted loss and its
 * gradient, APGD's checkpoints and step-size decision, Square's p schedule and square sizes, the
 * attack spec's defaults (and that configs written before them hash as before), and when a suite
 * may be called AutoAttack.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { attackSpecSchema, evalConfigSchema, type AttackSpec } from '../../src/core/evaluation.js';
import { apgdCheckpoints, stepSizeCheck } from '../../src/evaluator/attacks/apgd.js';
import { projectionLinf } from '../../src/evaluator/attacks/fab-t.js';
import { targetCount } from '../../src/evaluator/attacks/apgd-t.js';
import { dlrTargetedLoss, dlrTargetedValue } from '../../src/evaluator/attacks/dlr.js';
import { attackBudget } from '../../src/evaluator/attacks/index.js';
import { squarePSelection, squareSide } from '../../src/evaluator/attacks/square.js';
import {
  autoAttackVerdict,
  describeAttack,
  strongSuite,
} from '../../src/evaluator/attacks/suite.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { evalConfigHash } from '../../src/runner/evaluation-cache.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('DLR-targeted loss (APGD-T)', () => {
  // Rows: logits, true class, target. Sorted logits z1 >= z2 >= ...:
  // [3, 1, 2, 0.5, -1], y 0, t 2: -(3 - 2) / (3 - (1 + 0.5)/2) = -1/2.25
  // [0, 4, 1, 2, 3],    y 1, t 4: -(4 - 3) / (4 - (2 + 1)/2)   = -1/2.5
  // [5, 1, 0, 2, 0],    y 1, t 3: -(1 - 2) / (5 - (1 + 0)/2)   = +1/4.5 (already misclassified)
  const rows = [
    [3, 1, 2, 0.5, -1],
    [0, 4, 1, 2, 3],
    [5, 1, 0, 2, 0],
  ];
  const y = [0, 1, 1];
  const t = [2, 4, 3];
  const expected = [-1 / 2.25, -1 / 2.5, 1 / 4.5];

  it('equals the hand-computed values, as numbers and as tensors', () => {
    rows.forEach((r, i) => expect(dlrTargetedValue(r, y[i]!, t[i]!)).toBeCloseTo(expected[i]!, 12));
    const before = tf.memory().numTensors;
    const logits = tf.tensor2d(rows);
    const labels = tf.tensor1d(y, 'int32');
    const targets = tf.tensor1d(t, 'int32');
    const loss = dlrTargetedLoss(logits, labels, targets);
    const values = Array.from(loss.dataSync());
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    tf.dispose([logits, labels, targets, loss]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has the gradient of the formula through the logits the sort picks', () => {
    // Row 1: L = -(z0 - z2) / D, D = z0 - (z1 + z3)/2 (z0 is both the true class and z_pi1):
    // dL/dz0 = -1/D + (z0 - z2)/D^2, dL/dz2 = 1/D, dL/dz1 = dL/dz3 = -(z0 - z2)/(2 D^2), dL/dz4 = 0.
    const D = 2.25;
    const want = [-1 / D + 1 / D ** 2, -1 / (2 * D ** 2), 1 / D, -1 / (2 * D ** 2), 0];
    const labels = tf.tensor1d([0], 'int32');
    const targets = tf.tensor1d([2], 'int32');
    const z = tf.tensor2d([rows[0]!]);
    const g = tf.grad((l) => tf.sum(dlrTargetedLoss(l as tf.Tensor2D, labels, targets)))(z);
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    tf.dispose([labels, targets, z, g]);
  });

  it('refuses fewer than 4 classes with a clear error', () => {
    const z = tf.tensor2d([[1, 2, 3]]);
    const l = tf.tensor1d([0], 'int32');
    expect(() => dlrTargetedLoss(z, l, l)).toThrow(/at least 4 classes/);
    tf.dispose([z, l]);
  });
});

describe('APGD step-size schedule', () => {
  it('checks after 22, 41, 57, 70, 80, 87, 93, 99 of 100 iterations (the paper p_j)', () => {
    expect(apgdCheckpoints(100)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    // 10 iterations: first after max(int(2.2), 1) = 2, then every max(int(0.6), 1) = 1.
    expect(apgdCheckpoints(10)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(apgdCheckpoints(1)).toEqual([1]);
  });

  it('halves on oscillation (<= 75% increases) or on no improvement after a kept step', () => {
    // Losses after iterations 0..4 for 4 images; checkpoint at it = 4 with k = 5 (threshold 3.75).
    // The step before iteration 0 counts as loss 0.
    const series = [
      [1, 2, 3, 4, 5], // A: 5 increases; halved last time: kept although the best did not improve
      [1, 0.5, 2, 1.5, 3], // B: 3 increases (3 <= 3.75): oscillating, halved
      [1, 2, 3, 4, 5], // C: 5 increases, not halved last time, best improved (4 -> 5): kept
      [1, 2, 3, 4, 5], // D: 5 increases, not halved last time, best did not improve: halved
    ];
    const lossSteps = [0, 1, 2, 3, 4].map((j) => Float32Array.from(series.map((s) => s[j]!)));
    const reduce = stepSizeCheck(
      lossSteps,
      4,
      5,
      Uint8Array.from([1, 0, 0, 0]),
      Float32Array.from([5, 3, 4, 5]),
      Float32Array.from([5, 3, 5, 5]),
    );
    expect(Array.from(reduce)).toEqual([0, 1, 0, 1]);
  });
});

describe('FAB L-inf projection onto a hyperplane within [0, 1]', () => {
  const project = (t: number[], w: number[], b: number) =>
    Array.from(projectionLinf(Float32Array.from(t), Float32Array.from(w), b));

  it('moves only along the coordinates that matter, by the smallest L-inf step', () => {
    // x0 + d0 = 0.7 from (0.5, 0.5): d = (0.2, 0).
    project([0.5, 0.5], [1, 0], 0.7).forEach((v, i) => expect(v).toBeCloseTo([0.2, 0][i]!, 6));
    // x0 + x1 = 0.4 from (0.5, 0.5), from the other side: d = (-0.3, -0.3).
    project([0.5, 0.5], [1, 1], 0.4).forEach((v) => expect(v).toBeCloseTo(-0.3, 6));
  });

  it('respects the box: a coordinate at its bound leaves the rest to the others', () => {
    // x0 + x1 = 1.8 from (0.9, 0.5): x0 can rise only 0.1, so d = (0.1, 0.3) (L-inf 0.3, not 0.2).
    project([0.9, 0.5], [1, 1], 1.8).forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.3][i]!, 6));
    // Out of reach (x0 + x1 = 2.5): the corner that gets closest, (1, 1).
    project([0.9, 0.5], [1, 1], 2.5).forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.5][i]!, 6));
  });
});

describe('Square schedule', () => {
  it("p halves after iterations 10, 50, 200, ... of AutoAttack's 5000 queries", () => {
    const p = (it: number) => squarePSelection(it, 5000);
    expect(
      [0, 10, 11, 50, 51, 200, 201, 500, 501, 1000, 1001, 2000, 2001, 4000, 4001, 4999].map(p),
    ).toEqual([
      0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625,
      0.00625,
    ]);
  });

  it('scales the iteration to the budget (100 queries: iteration i acts as 50 i)', () => {
    const p = (it: number) => squarePSelection(it, 100);
    expect([0, 1, 2, 4, 5, 10, 11, 20, 21, 40, 41, 99].map(p)).toEqual([
      0.8, 0.4, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.00625,
    ]);
    // Any budget ends where AutoAttack's 5000 queries end, at p_init/128 (20000: i acts as i/4).
    expect(squarePSelection(16000, 20000)).toBe(0.0125);
    expect(squarePSelection(16004, 20000)).toBe(0.00625);
    expect(squarePSelection(19999, 20000)).toBe(0.00625);
  });

  it('square side round(sqrt(p h w)), at least 1 and at most the image', () => {
    expect(squareSide(0.8, 28, 28)).toBe(25); // sqrt(627.2) = 25.04
    expect(squareSide(0.05, 28, 28)).toBe(6); // sqrt(39.2) = 6.26
    expect(squareSide(0.00625, 28, 28)).toBe(2); // sqrt(4.9) = 2.21
    expect(squareSide(0.8 / 512, 28, 28)).toBe(1);
    expect(squareSide(0.8, 32, 32)).toBe(29);
    expect(squareSide(0.8, 4, 40)).toBe(4);
  });
});

describe('attack spec', () => {
  it("defaults: APGD-T AutoAttack's 100 iterations and 9 targets, Square 5000 queries, others 10 steps", () => {
    const t = attackSpecSchema.parse({ name: 'apgd-t', eps: 0.1 });
    expect(t).toEqual({ name: 'apgd-t', eps: 0.1, steps: 100, restarts: 1 });
    expect(attackBudget(t)).toEqual({ steps: 100, targets: 9 });
    expect(targetCount(t, 10)).toBe(9);
    expect(targetCount(t, 5)).toBe(4);
    expect(targetCount({ targets: 3 }, 10)).toBe(3);
    const s = attackSpecSchema.parse({ name: 'square', eps: 0.1 });
    expect(attackBudget(s)).toEqual({ queries: 5000 });
    expect(
      attackBudget(attackSpecSchema.parse({ name: 'square', eps: 0.1, queries: 300 })),
    ).toEqual({
      queries: 300,
    });
    // Configs written before APGD-T and Square parse exactly as before (no new keys).
    expect(attackSpecSchema.parse({ name: 'pgd', eps: 0.1 })).toEqual({
      name: 'pgd',
      eps: 0.1,
      steps: 10,
      restarts: 1,
    });
    expect(describeAttack(t, 10)).toBe('APGD-T (100 iterations, 9 targets, 1 restart)');
    expect(describeAttack(s)).toBe('Square (5000 queries, 1 restart)');
  });

  it('rejects bad budgets with the field named', () => {
    const issue = (v: object) => attackSpecSchema.safeParse(v).error?.issues[0]?.path.join('.');
    expect(issue({ name: 'apgd-t', eps: 0.1, targets: 0 })).toBe('targets');
    expect(issue({ name: 'square', eps: 0.1, queries: 1.5 })).toBe('queries');
    expect(issue({ name: 'square', eps: 0.1, queries: 1_000_000 })).toBe('queries');
    expect(issue({ name: 'apgd-t', eps: 0.1, steps: 5000 })).toBe('steps');
    expect(issue({ name: 'fab-x', eps: 0.1 })).toBe('name');
  });

  it('evaluation configs hash as they did before (evaluation cache keys unchanged)', () => {
    // Hashes computed with the main branch before this change.
    expect(evalConfigHash(evalConfigSchema.parse({}))).toBe('b5b08e900a5b7717');
    expect(
      evalConfigHash(
        evalConfigSchema.parse({
          attacks: [
            { name: 'apgd-ce', eps: 0.3, steps: 20, restarts: 2 },
            { name: 'fgsm', eps: 0.1 },
          ],
        }),
      ),
    ).toBe('2f8130b8a0626a7a');
  });
});

describe('AutoAttack verdict', () => {
  const parse = (a: object): AttackSpec => attackSpecSchema.parse({ eps: 0.3, ...a });

  it("the strong suite is AutoAttack's standard version: APGD-CE, APGD-T, FAB-T, Square", () => {
    const specs = strongSuite().map(parse);
    expect(specs.map((s) => [s.name, attackBudget(s), s.restarts])).toEqual([
      ['apgd-ce', { steps: 100 }, 1],
      ['apgd-t', { steps: 100, targets: 9 }, 1],
      ['fab-t', { steps: 100, targets: 9 }, 1],
      ['square', { queries: 5000 }, 1],
    ]);
    expect(autoAttackVerdict(specs, 10)).toEqual({
      autoAttack: true,
      reason: "AutoAttack's standard L-inf attacks at its standard settings",
    });
    // Without FAB-T it is not AutoAttack.
    const v = autoAttackVerdict(
      specs.filter((s) => s.name !== 'fab-t'),
      10,
    );
    expect(v).toEqual({ autoAttack: false, reason: 'not AutoAttack: FAB-T did not run' });
  });

  it('names the attacks below the standard budget or missing', () => {
    const v = autoAttackVerdict(
      [parse({ name: 'apgd-ce', steps: 10 }), parse({ name: 'apgd-t', targets: 3 })],
      10,
    );
    expect(v.autoAttack).toBe(false);
    expect(v.reason).toBe(
      "not AutoAttack: FAB-T, Square did not run; APGD-CE, APGD-T below AutoAttack's standard budget",
    );
    // 9 targets need 10 classes: on 5 classes APGD-T runs 4 and is not AutoAttack's.
    expect(autoAttackVerdict([parse({ name: 'apgd-t' })], 5).reason).toMatch(/APGD-T below/);
  });
});
