/**
 * Robust accuracy as RobustBench counts it: an image is robust only when the network classifies it
 * correctly both clean and under attack.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACKS, evalConfigSchema } from '../../src/core/evaluation.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import type { Classifier } from '../../src/evaluator/attacks/types.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { evaluateGenotype } from '../../src/evaluator/evaluate.js';
import { countCorrect, countRobust } from '../../src/evaluator/metrics.js';

beforeAll(async () => {
  await initBackend();
});

/** A classifier whose logits are the first ten pixels of the image: its answers are chosen. */
const readsItsAnswer: Classifier = {
  inputShape: [1, 10, 1],
  numClasses: 10,
  apply: (x) => ({ logits: tf.reshape(x, [x.shape[0], 10]) as tf.Tensor2D }),
};

function images(labels: number[]): tf.Tensor4D {
  return tf.tidy(() => tf.reshape(tf.oneHot(labels, 10), [labels.length, 1, 10, 1]) as tf.Tensor4D);
}

describe('countRobust', () => {
  it('counts only the images right both clean and attacked', () => {
    const y = tf.tensor1d([0, 1, 2, 3], 'int32');
    const clean = images([0, 1, 9, 9]); // right, right, wrong, wrong
    const attacked = images([0, 5, 2, 9]); // right, wrong, right (pushed into its class), wrong
    const before = tf.memory().numTensors;
    expect(countCorrect(readsItsAnswer, attacked, y)).toBe(2);
    expect(countRobust(readsItsAnswer, clean, attacked, y)).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, clean, attacked]);
  });
});

describe('robust accuracy on real MNIST', () => {
  it('never exceeds clean accuracy, for any attack', async () => {
    // A weak network (few steps) at a large eps: the setting where Step-LL used to push wrongly
    // classified images into their class and report robust accuracy above clean accuracy.
    const config = evalConfigSchema.parse({
      dataset: 'mnist',
      channels: 4,
      layers: 2,
      epochs: 1,
      trainSize: 256,
      valSize: 256,
      batchSize: 64,
      split: 'val',
      attacks: ATTACKS.map((name) => ({ name, eps: 0.3, steps: 3 })),
    });
    const { scores } = await evaluateGenotype(getPublishedGenotype('DARTS_V2'), config, 3);
    expect(scores.clean.n).toBe(256);
    for (const a of scores.adversarial) {
      expect(a.n).toBe(256);
      expect(a.accuracy, a.attack).toBeLessThanOrEqual(scores.clean.accuracy);
    }
  });
});
