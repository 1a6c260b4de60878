import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/evaluator/architecture.js';
import { initBackend } from '../src/evaluator/backend.js';
import { inputGradient } from '../src/evaluator/input-gradient.js';
import type { Model } from '../src/evaluator/model.js';
import { Sgd } from '../src/evaluator/sgd.js';
import { trainStep } from '../src/evaluator/train-step.js';
import { loadWeights, saveWeights } from '../src/evaluator/weights.js';
import { InputError } from '../src/errors.js';
import { getPublishedGenotype } from '../src/search/published-genotypes.js';

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

beforeAll(async () => {
  await initBackend('wasm');
});
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
