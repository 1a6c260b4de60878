/**
 * Limits on what a config may ask for: bounded image counts, attacks, steps and eps sweeps, names
 * without control characters, no empty POST /api/runs, and networks whose estimated memory exceeds
 * the limit refused before they are built (the CLI's evaluate and search exit 2 with the figures,
 * POST /api/runs answers 400 naming the fields). The memory estimator's parameter and multiply-add
 * counts are complexity.ts's exact ones, and its memory figure is checked against a fresh
 * measurement of the wasm heap.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { complexityOf } from '../../src/evaluator/complexity.js';
import { evalBatchSize } from '../../src/evaluator/evaluate.js';
import {
  attackBatchSize,
  checkEvaluationMemory,
  checkSearchMemory,
  dartsNetworkSize,
  DEFAULT_MAX_MEMORY_MB,
  estimateMemory,
  memoryLimitMB,
  ResourceLimitError,
} from '../../src/evaluator/memory-estimate.js';
import { evalConfigSchema } from '../../src/core/evaluation.js';
import { PUBLISHED_GENOTYPES, getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { searchConfigSchema } from '../../src/core/search-config.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { runCommand } from '../helpers/cli.js';

const SMALL = {
  population: 4,
  generations: 2,
  evaluator: 'surrogate',
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
  evaluation: { dataset: 'mnist', attacks: [{ name: 'pgd', eps: 0.1 }] },
};

/** The DARTS evaluation of the issue: 512 channels, 64 cells. */
const HUGE = {
  ...SMALL,
  evaluator: 'real',
  evaluation: { ...SMALL.evaluation, channels: 512, layers: 64 },
};

describe('config bounds', () => {
  const evalCases: [string, Record<string, unknown>, string][] = [
    ['trainSize', { trainSize: 10_000_000 }, 'trainSize'],
    ['valSize', { valSize: 1_000_000 }, 'valSize'],
    ['testSize', { testSize: 1_000_000 }, 'testSize'],
    [
      'the number of attacks',
      { attacks: Array.from({ length: 33 }, (_, i) => ({ name: 'fgsm', eps: i / 100 })) },
      'attacks',
    ],
    ['attack steps', { attacks: [{ name: 'pgd', eps: 0.1, steps: 5000 }] }, 'attacks.0.steps'],
    [
      'attack restarts',
      { attacks: [{ name: 'pgd', eps: 0.1, restarts: 50 }] },
      'attacks.0.restarts',
    ],
    ['the eps sweep', { curveEps: Array.from({ length: 33 }, (_, i) => i / 100) }, 'curveEps'],
  ];
  for (const [what, fields, path] of evalCases) {
    it(`bounds ${what}`, () => {
      const r = evalConfigSchema.safeParse(fields);
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
    });
  }

  it('accepts the largest values within the bounds', () => {
    const r = evalConfigSchema.safeParse({
      trainSize: 50_000,
      valSize: 10_000,
      testSize: 10_000,
      attacks: Array.from({ length: 32 }, (_, i) => ({
        name: 'apgd-ce',
        eps: i / 100,
        steps: 1000,
        restarts: 20,
      })),
      curveEps: Array.from({ length: 32 }, (_, i) => i / 100),
    });
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });

  it('refuses control characters in a run name', () => {
    for (const name of ['a\nb', 'bell\u0007', 'esc\u001b[31m', 'del\u007f', 'nul\u0000']) {
      const r = searchConfigSchema.safeParse({ ...SMALL, name });
      expect(r.success, JSON.stringify(name)).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toContain('name');
    }
    expect(
      searchConfigSchema.safeParse({ ...SMALL, name: 'CIFAR — run #2 (ε=8/255) ✓' }).success,
    ).toBe(true);
  });
});

describe('the memory estimator', () => {
  const geometries: {
    channels: number;
    layers: number;
    numClasses: number;
    inputShape: [number, number, number];
  }[] = [
    { channels: 16, layers: 8, numClasses: 10, inputShape: [32, 32, 3] },
    { channels: 8, layers: 5, numClasses: 10, inputShape: [28, 28, 1] },
    { channels: 6, layers: 7, numClasses: 100, inputShape: [17, 23, 2] },
  ];
  it("counts complexity.ts's exact params and MACs for every published genotype", () => {
    for (const [name, p] of Object.entries(PUBLISHED_GENOTYPES)) {
      for (const g of geometries) {
        const exact = complexityOf({ genotype: p.genotype }, g);
        const size = dartsNetworkSize(p.genotype, g);
        expect({ name, params: size.params, macs: size.macs }).toEqual({
          name,
          params: exact.params,
          macs: exact.macs,
        });
        expect(size.activations).toBeGreaterThan(size.macs / 1000);
      }
    }
  });

  it('counts the auxiliary head apart, as complexity.ts leaves it out', () => {
    const g = geometries[0]!;
    const size = dartsNetworkSize(getPublishedGenotype('DARTS_V2'), g);
    const withAux = estimateMemory(size, { batchSize: 32, auxiliaryWeight: 0.4 });
    const without = estimateMemory(size, { batchSize: 32, auxiliaryWeight: 0 });
    expect(size.auxiliaryParams).toBeGreaterThan(0);
    expect(withAux.params).toBe(size.params + size.auxiliaryParams);
    expect(withAux.trainingBytes).toBeGreaterThan(without.trainingBytes);
  });

  it("attacks in evaluate.ts's batches", () => {
    for (const batchSize of [1, 64, 128, 500]) {
      const config = evalConfigSchema.parse({ batchSize });
      expect(attackBatchSize(config)).toBe(evalBatchSize(config));
    }
  });

  it('matches a fresh measurement of the wasm heap (DARTS_V2, C=8, 5 cells, MNIST, batch 40)', () => {
    const dist = (p: string) => pathToFileURL(resolve(import.meta.dirname, '../../dist', p)).href;
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      const { initBackend } = await import(${JSON.stringify(dist('evaluator/backend.js'))});
      const { buildModel } = await import(${JSON.stringify(dist('evaluator/architecture.js'))});
      const { Sgd } = await import(${JSON.stringify(dist('evaluator/sgd.js'))});
      const { trainStep } = await import(${JSON.stringify(dist('evaluator/train-step.js'))});
      const { PUBLISHED_GENOTYPES } = await import(${JSON.stringify(dist('core/published-genotypes.js'))});
      await initBackend('wasm');
      const opts = { channels: 8, layers: 5, numClasses: 10, inputShape: [28, 28, 1], seed: 0 };
      const model = buildModel({ genotype: PUBLISHED_GENOTYPES.DARTS_V2.genotype }, opts);
      const sgd = new Sgd({ learningRate: 0.01, momentum: 0.9, nesterov: false, weightDecay: 3e-4 });
      const x = tf.randomUniform([40, 28, 28, 1]);
      const y = tf.tensor1d(Array.from({ length: 40 }, (_, i) => i % 10), 'int32');
      for (let i = 0; i < 2; i++) trainStep(model, sgd, x, y, { gradClip: 5 });
      process.stdout.write(String(tf.backend().wasm.HEAPU8.length));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const heap = Number(r.stdout);
    const size = dartsNetworkSize(getPublishedGenotype('DARTS_V2'), geometries[1]!);
    const estimate = estimateMemory(size, { batchSize: 40, auxiliaryWeight: 0 });
    // Calibration (memory-estimate.ts): 172 MB measured, 183 MB estimated.
    expect(estimate.trainingBytes / heap).toBeGreaterThan(0.85);
    expect(estimate.trainingBytes / heap).toBeLessThan(1.35);
  });

  it('refuses 512 channels and 64 cells with the figures, in one line', () => {
    const config = evalConfigSchema.parse({ dataset: 'cifar10', channels: 512, layers: 64 });
    let err: unknown;
    try {
      checkEvaluationMemory([getPublishedGenotype('DARTS_V2')], config, DEFAULT_MAX_MEMORY_MB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResourceLimitError);
    expect(err).toBeInstanceOf(InputError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/parameters/);
    expect(message).toMatch(/activations per image/);
    expect(message).toMatch(/estimated memory \d+ MB/);
    expect(message).toContain(`limit of ${DEFAULT_MAX_MEMORY_MB} MB`);
  });

  it('lets the defaults and a DARTS-sized CIFAR network through, refuses the DARTS paper size at batch 64', () => {
    const g = getPublishedGenotype('DARTS_V2');
    expect(checkEvaluationMemory([g], evalConfigSchema.parse({}), 4096)).toBeDefined();
    const cifar = evalConfigSchema.parse({ dataset: 'cifar10', channels: 16, layers: 8 });
    expect(checkEvaluationMemory([g], cifar, 4096)!.peakBytes).toBeLessThan(2500 * 2 ** 20);
    const paper = evalConfigSchema.parse({ dataset: 'cifar10', channels: 36, layers: 20 });
    expect(() => checkEvaluationMemory([g], paper, 4096)).toThrow(ResourceLimitError);
  });

  it("checks a search's largest possible network, and never a surrogate search", () => {
    const real = searchConfigSchema.parse(HUGE);
    expect(() => checkSearchMemory(real, DEFAULT_MAX_MEMORY_MB)).toThrow(ResourceLimitError);
    try {
      checkSearchMemory(real, DEFAULT_MAX_MEMORY_MB);
    } catch (err) {
      const paths = (err as ResourceLimitError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['evaluation.channels', 'evaluation.layers']));
    }
    expect(
      checkSearchMemory(searchConfigSchema.parse({ ...HUGE, evaluator: 'surrogate' }), 1),
    ).toBe(undefined);
    const small = searchConfigSchema.parse({ ...SMALL, evaluator: 'real' });
    const largest = checkSearchMemory(small, DEFAULT_MAX_MEMORY_MB)!;
    const darts = checkEvaluationMemory(
      [getPublishedGenotype('DARTS_V2')],
      small.evaluation,
      DEFAULT_MAX_MEMORY_MB,
    )!;
    expect(largest.peakBytes).toBeGreaterThanOrEqual(darts.peakBytes);
  });

  it('reads the limit from the option, then ROBUST_NAS_MAX_MEMORY_MB, then the default', () => {
    const saved = process.env.ROBUST_NAS_MAX_MEMORY_MB;
    try {
      delete process.env.ROBUST_NAS_MAX_MEMORY_MB;
      expect(memoryLimitMB()).toBe(DEFAULT_MAX_MEMORY_MB);
      process.env.ROBUST_NAS_MAX_MEMORY_MB = '2048';
      expect(memoryLimitMB()).toBe(2048);
      expect(memoryLimitMB('512')).toBe(512);
      process.env.ROBUST_NAS_MAX_MEMORY_MB = 'lots';
      expect(() => memoryLimitMB()).toThrow(InputError);
      expect(() => memoryLimitMB('-3')).toThrow(InputError);
    } finally {
      if (saved === undefined) delete process.env.ROBUST_NAS_MAX_MEMORY_MB;
      else process.env.ROBUST_NAS_MAX_MEMORY_MB = saved;
    }
  });
});

describe('POST /api/runs limits', () => {
  let runsDir: string;
  let server: RunningServer;

  beforeAll(async () => {
    runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-limits-'));
    server = await startServer({ port: 0, runsDir });
  });

  afterAll(async () => {
    await server?.close();
    await rm(runsDir, { recursive: true, force: true });
  });

  async function post(body: string | undefined) {
    const res = await fetch(new URL('/api/runs', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body }),
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  it('answers an empty body or {} with 400 (not a default 200-evaluation search)', async () => {
    for (const body of [undefined, '{}']) {
      const r = await post(body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error).toBe('invalid search config');
      expect(r.body.issues[0].message).toContain('search config');
    }
    expect((await post('{}')).body.issues[0].message).toContain('empty');
    expect(await readdir(runsDir)).toEqual([]);
  });

  it('answers over-large counts and control characters with a field-level 400', async () => {
    const cases: [unknown, string][] = [
      [
        { ...SMALL, evaluation: { ...SMALL.evaluation, trainSize: 10_000_000 } },
        'evaluation.trainSize',
      ],
      [{ ...SMALL, name: 'x\u001b[2J' }, 'name'],
      [
        {
          ...SMALL,
          evaluation: { ...SMALL.evaluation, attacks: [{ name: 'pgd', eps: 0.1, steps: 100_000 }] },
        },
        'evaluation.attacks.0.steps',
      ],
    ];
    for (const [body, path] of cases) {
      const r = await post(JSON.stringify(body));
      expect(r.status).toBe(400);
      expect(r.body.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
  });

  it('refuses a real search of 512 channels and 64 cells with 400 naming the fields and figures', async () => {
    const r = await post(JSON.stringify(HUGE));
    expect(r.status).toBe(400);
    const paths = r.body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['evaluation.channels', 'evaluation.layers']));
    expect(r.body.issues[0].message).toMatch(/estimated \d+ MB \(limit \d+ MB\)/);
    expect(await readdir(runsDir)).toEqual([]);
  });

  it("uses the server's own limit", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-limits-own-'));
    const tight = await startServer({ port: 0, runsDir: dir, maxMemoryMB: 20 });
    try {
      const res = await fetch(new URL('/api/runs', tight.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...SMALL, evaluator: 'real' }),
      });
      expect(res.status).toBe(400);
      expect(
        ((await res.json()) as { issues: { message: string }[] }).issues[0]!.message,
      ).toContain('limit 20 MB');
    } finally {
      await tight.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the CLI refuses networks over the memory limit (exit 2, one line)', () => {
  it('evaluate --channels 512 --layers 64', () => {
    const r = runCommand(
      [
        'evaluate',
        '--genotype',
        'DARTS_V2',
        '--dataset',
        'synthetic',
        '--channels',
        '512',
        '--layers',
        '64',
      ],
      { ROBUST_NAS_MAX_MEMORY_MB: '' },
    );
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/estimated memory \d+ MB/);
    expect(lines[0]).toContain('limit of 4096 MB');
  });

  it('evaluate --max-memory-mb and ROBUST_NAS_MAX_MEMORY_MB lower the limit', () => {
    const args = ['evaluate', '--genotype', 'DARTS_V2', '--dataset', 'synthetic'];
    const flag = runCommand([...args, '--max-memory-mb', '10']);
    expect(flag.code, flag.stderr).toBe(2);
    expect(flag.stderr).toContain('limit of 10 MB');
    const env = runCommand(args, { ROBUST_NAS_MAX_MEMORY_MB: '12' });
    expect(env.code, env.stderr).toBe(2);
    expect(env.stderr).toContain('limit of 12 MB');
  });

  it('search with a config of 512 channels and 64 cells', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-limits-cli-'));
    try {
      const file = join(dir, 'huge.json');
      await writeFile(file, JSON.stringify(HUGE));
      const r = runCommand(['search', '--config', file, '--runs-dir', join(dir, 'runs')], {
        ROBUST_NAS_MAX_MEMORY_MB: '',
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/largest network this search could sample is too big/);
      expect(await readdir(dir)).toEqual(['huge.json']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
