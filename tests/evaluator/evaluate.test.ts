import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { complexityOf } from '../../src/evaluator/complexity.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  evaluateArchitecture,
  evaluateEnsemble,
  evaluateGenotype,
  runEvaluation,
} from '../../src/evaluator/evaluate.js';
import {
  evalConfigSchema,
  harmonicRobustnessScore,
  type EvalConfigInput,
  type EvalProgress,
  type Scores,
} from '../../src/core/evaluation.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { runCommand } from '../helpers/cli.js';
import { FIXTURE_DATA } from '../helpers/datasets.js';

const DARTS_V2 = getPublishedGenotype('DARTS_V2');
const PDARTS = getPublishedGenotype('PDARTS');

/** A small, fast evaluation on the synthetic set (16x16 grey). */
const config = (extra: EvalConfigInput = {}) =>
  evalConfigSchema.parse({
    dataset: 'synthetic',
    channels: 4,
    layers: 2,
    epochs: 1,
    batchSize: 32,
    learningRate: 0.05,
    trainSize: 200,
    valSize: 60,
    testSize: 80,
    attacks: [
      { name: 'pgd', eps: 0.1, steps: 3 },
      { name: 'fgsm', eps: 0.1 },
    ],
    ...extra,
  });

const withoutTimes = (s: Scores) => ({ ...s, seconds: undefined });

beforeAll(async () => {
  await initBackend('wasm');
});

describe('evaluateGenotype', () => {
  it('scores a genotype: clean, each attack, HRS, n and stderr; deterministic; no tensor leaks', async () => {
    const before = tf.memory().numTensors;
    const progress: EvalProgress[] = [];
    const { scores: a } = await evaluateGenotype(DARTS_V2, config(), 7, (p) => progress.push(p));
    expect(tf.memory().numTensors).toBe(before);
    const { scores: b } = await evaluateGenotype(DARTS_V2, config(), 7);
    expect(tf.memory().numTensors).toBe(before);
    expect(withoutTimes(b)).toEqual(withoutTimes(a));

    expect(a.clean.n).toBe(60); // the search's split: validation
    const p = a.clean.accuracy;
    expect(a.clean.stderr).toBeCloseTo(Math.sqrt((p * (1 - p)) / 60), 12);
    expect(a.adversarial.map((s) => [s.attack, s.eps, s.n])).toEqual([
      ['pgd', 0.1, 60],
      ['fgsm', 0.1, 60],
    ]);
    expect(a.hrs).toBeCloseTo(harmonicRobustnessScore(p, a.adversarial[0]!.accuracy), 12);
    const complexity = complexityOf(
      { genotype: DARTS_V2 },
      { channels: 4, layers: 2, numClasses: 10, inputShape: [16, 16, 1] },
    );
    expect(a.params).toBe(complexity.params);
    expect(a.macs).toBe(complexity.macs);
    expect(a.backend).toBe('wasm');
    expect(a.seconds.train).toBeGreaterThan(0);
    expect(new Set(progress.map((q) => q.phase))).toEqual(new Set(['data', 'train', 'attack']));
    const lastAttack = progress.filter((q) => q.phase === 'attack').at(-1)!;
    expect(lastAttack.done).toBe(lastAttack.total);
  });

  it('eps = 0 gives adversarial accuracy equal to clean; the eps sweep gives a curve and its mean', async () => {
    const { scores: s } = await evaluateGenotype(
      DARTS_V2,
      config({
        split: 'test',
        attacks: [
          { name: 'pgd', eps: 0, steps: 3 },
          { name: 'apgd-ce', eps: 0, steps: 3 },
          { name: 'fgsm', eps: 0 },
        ],
        curveEps: [0.2, 0],
      }),
      3,
    );
    expect(s.clean.n).toBe(80);
    for (const a of s.adversarial) expect(a.accuracy).toBe(s.clean.accuracy);
    expect(s.curve!.map((c) => c.eps)).toEqual([0, 0.2]);
    expect(s.curve![0]!.accuracy).toBe(s.clean.accuracy);
    expect(s.curveMean).toBeCloseTo((s.curve![0]!.accuracy + s.curve![1]!.accuracy) / 2, 12);
  });

  it('bad input is an InputError naming the problem', async () => {
    await expect(evaluateGenotype(DARTS_V2, { ...config(), channels: 0 }, 1)).rejects.toThrow(
      InputError,
    );
    await expect(evaluateGenotype(DARTS_V2, { ...config(), channels: 0 }, 1)).rejects.toThrow(
      /channels/,
    );
  });
});

describe('trained weights', () => {
  it('saved after training, loaded instead of training: the same scores without retraining', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-weights-'));
    try {
      const file = join(dir, 'nested', '3.weights');
      const trained = await evaluateGenotype(DARTS_V2, config(), 5, undefined, {
        keepWeights: true,
      });
      expect(trained.weights?.byteLength).toBeGreaterThan(1000);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, trained.weights!);
      const before = tf.memory().numTensors;
      const loaded = await runEvaluation({
        members: [{ genotype: DARTS_V2 }],
        config: config(),
        seed: 5,
        loadWeightsFrom: file,
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(loaded.training).toEqual([{ steps: 0, lastEpochLoss: Number.NaN }]);
      expect(withoutTimes(loaded.scores)).toEqual(withoutTimes(trained.scores));
      // Weights of another architecture are refused with the file named.
      await expect(
        runEvaluation({
          members: [{ genotype: PDARTS }],
          config: config(),
          seed: 5,
          loadWeightsFrom: file,
        }),
      ).rejects.toThrow(/3\.weights/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('baselines and ensembles', () => {
  it('an ensemble of two genotypes is attacked end to end; its size is the sum of its members', async () => {
    const before = tf.memory().numTensors;
    const s = await evaluateEnsemble([DARTS_V2, PDARTS], config({ split: 'test' }), 2);
    expect(tf.memory().numTensors).toBe(before);
    const size = (g: typeof DARTS_V2) =>
      complexityOf(
        { genotype: g },
        { channels: 4, layers: 2, numClasses: 10, inputShape: [16, 16, 1] },
      );
    expect(s.params).toBe(size(DARTS_V2).params + size(PDARTS).params);
    expect(s.macs).toBe(size(DARTS_V2).macs + size(PDARTS).macs);
    expect(s.adversarial[0]!.accuracy).toBeLessThanOrEqual(s.clean.accuracy);
  });

  it('a baseline (resnet18 at width 1/8)', async () => {
    const s = await evaluateArchitecture('resnet18', 0.125, config(), 1);
    expect(s.clean.n).toBe(60);
    expect(s.params).toBe(
      complexityOf(
        { arch: 'resnet18', width: 0.125 },
        { channels: 4, layers: 2, numClasses: 10, inputShape: [16, 16, 1] },
      ).params,
    );
  });
});

describe('robust-nas evaluate', () => {
  const base = [
    'evaluate',
    '--dataset',
    'synthetic',
    '--channels',
    '4',
    '--layers',
    '2',
    '--train-size',
    '200',
    '--val-size',
    '50',
    '--test-size',
    '60',
    '--batch-size',
    '32',
    '--steps',
    '3',
    '--seed',
    '1',
    '--backend',
    'wasm',
  ];

  it('--json prints one JSON object with clean, adversarial per attack and eps, hrs, params, macs, seconds, backend, config', () => {
    const r = runCommand([
      ...base,
      '--genotype',
      'DARTS_V2',
      '--attack',
      'pgd,fgsm',
      '--eps',
      '0.05,8/255',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(out.clean.n).toBe(60);
    expect(out.adversarial.map((a: { attack: string; eps: number }) => [a.attack, a.eps])).toEqual([
      ['pgd', 0.05],
      ['pgd', 8 / 255],
      ['fgsm', 0.05],
      ['fgsm', 8 / 255],
    ]);
    for (const key of ['hrs', 'params', 'macs', 'seconds', 'backend', 'config', 'genotype']) {
      expect(out).toHaveProperty(key);
    }
    expect(out.seconds).toHaveProperty('train');
    expect(out.seconds).toHaveProperty('attack');
    expect(out.backend).toBe('wasm');
    expect(out.config.split).toBe('test');
    expect(r.stderr).toMatch(/backend: wasm/);
  });

  it('--ensemble-random K evaluates K random genotypes', () => {
    const r = runCommand([...base, '--ensemble-random', '2', '--eps', '0.1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ensemble).toHaveLength(2);
    expect(out.combine).toBe('logits');
  });

  it('bad arguments exit 2 with one line naming the problem', () => {
    for (const [args, message] of [
      [['--genotype', 'NO_SUCH_CELL'], /NO_SUCH_CELL/],
      [['--genotype', 'DARTS_V2', '--arch', 'resnet18'], /only one of/],
      [['--genotype', 'DARTS_V2', '--attack', 'cw'], /--attack: 'cw'/],
      [['--genotype', 'DARTS_V2', '--eps', '2'], /eps/],
      [['--arch', 'alexnet'], /--arch: 'alexnet'/],
      [[], /give a network/],
    ] as const) {
      const r = runCommand([...base, ...args]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines.at(-1)).toMatch(message);
      expect(lines.filter((l) => l.includes('error'))).toHaveLength(1);
    }
  });

  const small = [
    '--genotype',
    'DARTS_V2',
    '--channels',
    '4',
    '--layers',
    '2',
    '--epochs',
    '1',
    '--train-size',
    '200',
    '--val-size',
    '50',
    '--test-size',
    '100',
    '--batch-size',
    '32',
    '--steps',
    '3',
    '--seed',
    '1',
    '--backend',
    'wasm',
    '--json',
  ];

  it("--data-dir names a data root or the data set's own folder: that real data is used", () => {
    const cifarFolder = join(FIXTURE_DATA, 'cifar-10', 'cifar-10-batches-bin');
    const fashionFolder = join(FIXTURE_DATA, 'fashion-mnist');
    for (const [dataset, dataDir, folder] of [
      ['cifar10', FIXTURE_DATA, cifarFolder],
      ['fashion-mnist', fashionFolder, fashionFolder],
    ] as const) {
      const r = runCommand(['evaluate', '--dataset', dataset, '--data-dir', dataDir, ...small]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.data).toMatchObject({ dataset, source: 'data-dir', folder, scoredImages: 100 });
      expect(out.clean.n).toBe(100);
      expect(out.adversarial[0].eps).toBeCloseTo(dataset === 'cifar10' ? 2 / 255 : 0.1, 12);
    }
  });

  it('a named data folder that is not there or lacks the data set: exit 2, one line naming it and the files', () => {
    const noData = '/nonexistent/robust-nas-data';
    for (const [args, env, message] of [
      [
        ['--data-dir', noData],
        {},
        /^robust-nas: error: --data-dir \/nonexistent\/robust-nas-data does not exist: looked for MNIST's train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz in \/nonexistent\/robust-nas-data\/mnist or \/nonexistent\/robust-nas-data$/,
      ],
      // The fixture root holds Fashion-MNIST and CIFAR-10 but no MNIST: no bundled fallback.
      [['--data-dir', FIXTURE_DATA], {}, /--data-dir .*fixtures\/datasets holds no MNIST/],
      [
        ['--dataset', 'cifar10', '--data-dir', join(FIXTURE_DATA, 'fashion-mnist')],
        {},
        /holds no CIFAR-10: looked for CIFAR-10's test_batch\.bin, one of data_batch_1\.bin/,
      ],
      [
        [],
        { ROBUST_NAS_DATA: noData },
        /^robust-nas: error: ROBUST_NAS_DATA \/nonexistent\/robust-nas-data does not exist/,
      ],
    ] as const) {
      const r = runCommand(['evaluate', ...small, ...args], env);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
