/**
 * Interoperability of `robust-nas export-model` with real PyTorch (Debian's python3-torch; run by
 * `npm run test:interop`, not by `npm test`). For DARTS genotype networks (every operation, odd
 * sizes, the auxiliary head), the three baselines at small widths, and a candidate of a tiny real
 * search: robust-nas's weights are exported, Python builds model.py's module, loads
 * model.safetensors strictly and runs a fixed batch; the parameter count must equal robust-nas's
 * and the logits must equal robust-nas's within 1e-4 (max abs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { type ArchitectureSpec, buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { complexityOf } from '../../src/evaluator/complexity.js';
import { datasetSpec } from '../../src/evaluator/datasets/registry.js';
import type { BuildOptions, Model } from '../../src/evaluator/model.js';
import { loadWeights, saveWeights } from '../../src/evaluator/weights.js';
import { resolveGenotype } from '../../src/cli/genotype-resolve.js';
import { RunCatalogue as RunCatalogue } from '../../src/store/run-catalogue.js';
import { storedWeights, weightsFile } from '../../src/store/run-weights.js';
import { runCommand } from '../helpers/cli.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const CHECK = resolve(import.meta.dirname, 'pytorch-check.py');
const root = mkdtempSync(join(tmpdir(), 'robust-nas-interop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Python 3 that imports torch: $ROBUST_NAS_PYTHON, else python3, else Debian's /usr/bin/python3. */
function findPython(): string {
  const candidates = [process.env.ROBUST_NAS_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => p !== undefined && p !== '',
  );
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return python;
  }
  throw new Error(
    `no Python with torch among ${candidates.join(', ')}: install Debian's python3-torch (apt-get install -y python3-torch) or set ROBUST_NAS_PYTHON`,
  );
}

let python = '';
beforeAll(async () => {
  python = findPython();
  await initBackend();
});

interface TorchReport {
  params: number;
  params_all: number;
  keys: string[];
  logits: number[][];
  train_loss: number;
  train_aux: boolean;
}

/** A fixed batch of images in [0, 1], NHWC. */
function fixedBatch(n: number, shape: readonly [number, number, number], seed: string) {
  const rng = Rng.fromSeed(seed);
  const values = Array.from({ length: n * shape[0] * shape[1] * shape[2] }, () => rng.next());
  return { shape: [n, ...shape], values };
}

function torchRun(dir: string, batch: { shape: number[]; values: number[] }): TorchReport {
  const file = join(dir, 'batch.json');
  writeFileSync(file, JSON.stringify(batch));
  const out = execFileSync(python, [CHECK, dir, file], { encoding: 'utf8', timeout: 600_000 });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as TorchReport;
}

function robustNasLogits(model: Model, batch: { shape: number[]; values: number[] }): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.values, batch.shape as [number, number, number, number]);
    return model.apply(x, { training: false }).logits.arraySync();
  });
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]?.length);
    row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - (b[i]?.[j] as number)))));
  });
  return worst;
}

/**
 * Gives every BatchNorm non-trivial statistics and affine parameters (and the linear biases other
 * values), so that the export of each kind of tensor is checked, not only the conv filters.
 */
function perturbNormalisation(model: Model, seed: string): void {
  const rng = Rng.fromSeed(seed);
  const names = model.variableNames!;
  const draw = (v: tf.Variable, lo: number, hi: number) =>
    tf.tidy(() =>
      v.assign(
        tf.tensor(
          Array.from({ length: v.size }, () => lo + (hi - lo) * rng.next()),
          v.shape,
        ),
      ),
    );
  model.trainableVariables.forEach((v, i) => {
    const name = names.trainable[i] as string;
    if (v.rank !== 1) return;
    // Rank-1 weights are BatchNorm scales (conv and linear weights have rank 4 and 2).
    if (name.endsWith('.weight')) draw(v, 0.5, 1.5);
    else draw(v, -0.2, 0.2);
  });
  model.stateVariables.forEach((v, i) => {
    const name = names.state[i] as string;
    if (name.endsWith('running_var')) draw(v, 0.5, 1.5);
    else draw(v, -0.2, 0.2);
  });
}

/** Builds the network in robust-nas, exports it through the CLI, and compares with PyTorch. */
async function roundTrip(
  label: string,
  spec: ArchitectureSpec,
  options: BuildOptions,
  cliNetworkArgs: string[],
) {
  const dir = join(root, label);
  mkdirSync(dir, { recursive: true });
  const model = buildModel(spec, options);
  try {
    perturbNormalisation(model, `interop:${label}`);
    const weights = join(dir, 'robust-nas.weights');
    await saveWeights(model, weights);
    const out = join(dir, 'export');
    const r = runCommand(['export-model', ...cliNetworkArgs, '--weights', weights, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const batch = fixedBatch(4, options.inputShape, `batch:${label}`);
    const torch = torchRun(out, batch);
    const expected = complexityOf(spec, options).params;
    expect(model.params).toBe(expected);
    expect(torch.params).toBe(expected);
    if (!options.auxiliary) expect(torch.params_all).toBe(expected);
    // One training step from the loaded weights runs (with the auxiliary head when there is one).
    expect(Number.isFinite(torch.train_loss)).toBe(true);
    expect(torch.train_aux).toBe(options.auxiliary === true);
    const ours = robustNasLogits(model, batch);
    const diff = maxAbsDiff(ours, torch.logits);
    // The logits are not trivially small (the comparison would then say little).
    const scale = Math.max(...ours.flat().map(Math.abs));
    expect(scale).toBeGreaterThan(1e-2);
    expect(
      diff,
      `${label}: max |robust-nas - PyTorch| = ${diff} (logits up to ${scale})`,
    ).toBeLessThan(1e-4);
    return { diff, scale, params: expected };
  } finally {
    model.dispose();
  }
}

const EVERY_OP =
  "Genotype(normal=[('sep_conv_5x5', 0), ('dil_conv_5x5', 1), ('conv_7x1_1x7', 0), ('avg_pool_3x3', 2), " +
  "('none', 1), ('sep_conv_7x7', 3), ('skip_connect', 0), ('dil_conv_3x3', 4)], normal_concat=[2, 3, 4, 5], " +
  "reduce=[('skip_connect', 0), ('conv_7x1_1x7', 1), ('dil_conv_5x5', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 1), " +
  "('avg_pool_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_7x7', 0)], reduce_concat=[2, 3, 4, 5])";

describe('export-model round-trips to PyTorch (python3-torch)', () => {
  it('DARTS_V2 at 4 channels, 5 cells on CIFAR-10 images: same parameters, same logits', async () => {
    const cifar = datasetSpec('cifar10');
    const result = await roundTrip(
      'darts-v2',
      { genotype: resolveGenotype('DARTS_V2') },
      {
        channels: 4,
        layers: 5,
        numClasses: 10,
        inputShape: [32, 32, 3],
        seed: 11,
        normalization: { mean: [...cifar.mean], std: [...cifar.std] },
      },
      ['--genotype', 'DARTS_V2', '--channels', '4', '--layers', '5', '--dataset', 'cifar10'],
    );
    expect(result.params).toBe(11_554);
  });

  it('every operation, odd sizes (13x11) and the auxiliary head', async () => {
    const mnist = datasetSpec('mnist');
    await roundTrip(
      'every-op',
      { genotype: resolveGenotype(EVERY_OP) },
      {
        channels: 4,
        layers: 5,
        numClasses: 7,
        inputShape: [13, 11, 1],
        auxiliary: true,
        seed: 12,
        normalization: { mean: [...mnist.mean], std: [...mnist.std] },
      },
      [
        '--genotype',
        EVERY_OP,
        '--channels',
        '4',
        '--layers',
        '5',
        '--classes',
        '7',
        '--input',
        '13x11x1',
        '--dataset',
        'mnist',
        '--auxiliary',
      ],
    );
  });

  for (const [arch, width, input] of [
    ['resnet18', 0.125, [16, 16, 3]],
    ['vgg16', 0.0625, [12, 12, 3]],
    ['densenet121', 0.125, [9, 9, 3]],
  ] as const) {
    it(`${arch} at width ${width}, ${input.join('x')} input, no normalisation`, async () => {
      await roundTrip(
        arch,
        { arch, width },
        { channels: 1, layers: 1, numClasses: 5, inputShape: [...input], seed: 13 },
        ['--arch', arch, '--width', String(width), '--classes', '5', '--input', input.join('x')],
      );
    });
  }

  it("a tiny real search's front member: its kept weights in PyTorch give robust-nas's logits", async () => {
    const runs = join(root, 'runs');
    const config = join(root, 'tiny-search.json');
    writeFileSync(
      config,
      JSON.stringify({ population: 2, generations: 1, seed: 5, evaluation: TINY_EVALUATION }),
    );
    const search = runCommand([
      'search',
      '--config',
      config,
      '--runs-dir',
      runs,
      '--run-id',
      'tiny',
    ]);
    expect(search.code, search.stderr).toBe(0);
    const run = await new RunCatalogue(runs).read('tiny');
    const front = run.generations.at(-1)!.front;
    const kept = await storedWeights(new RunCatalogue(runs).runDir('tiny'));
    expect(kept).toEqual([...front].sort((a, b) => a - b));
    const member = run.evaluations.find((e) => e.index === front[0])!;

    const out = join(root, 'tiny-export');
    const r = runCommand(['export-model', 'tiny', member.hash, '--runs-dir', runs, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/weights: \d+ tensors in model\.safetensors/);

    const spec = datasetSpec('synthetic');
    const model = buildModel(
      { genotype: member.genotype },
      {
        channels: TINY_EVALUATION.channels,
        layers: TINY_EVALUATION.layers,
        numClasses: spec.numClasses,
        inputShape: [...spec.shape],
        seed: 0,
        normalization: { mean: [...spec.mean], std: [...spec.std] },
      },
    );
    try {
      await loadWeights(model, weightsFile(new RunCatalogue(runs).runDir('tiny'), member.index));
      const batch = fixedBatch(8, spec.shape, 'batch:tiny-run');
      const torch = torchRun(out, batch);
      expect(torch.params).toBe(model.params);
      const ours = robustNasLogits(model, batch);
      expect(maxAbsDiff(ours, torch.logits)).toBeLessThan(1e-4);
      expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain(`run: tiny`);
    } finally {
      model.dispose();
    }
  });
});
