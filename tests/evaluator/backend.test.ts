/**
 * Backend selection: auto picks the best available (wasm here, where the native tfjs-node packages
 * cannot install), names can be forced by argument or ROBUST_NAS_BACKEND, and an unavailable
 * backend fails with an error naming its package.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  BACKEND_ENV_VAR,
  describeBackend,
  initBackend,
  parseBackendName,
} from '../../src/evaluator/backend.js';
import { InputError } from '../../src/core/errors.js';
import { WASM_TRAINING_KERNELS } from '../../src/evaluator/wasm-kernels/index.js';

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const hasNode = installed('@tensorflow/tfjs-node');
const hasNodeGpu = installed('@tensorflow/tfjs-node-gpu');

describe('initBackend', () => {
  const savedEnv = process.env[BACKEND_ENV_VAR];
  afterEach(() => {
    if (savedEnv === undefined) delete process.env[BACKEND_ENV_VAR];
    else process.env[BACKEND_ENV_VAR] = savedEnv;
  });

  it.runIf(!hasNode && !hasNodeGpu)(
    'auto falls back to wasm with SIMD and reports it',
    async () => {
      delete process.env[BACKEND_ENV_VAR];
      const info = await initBackend('auto');
      expect(info.name).toBe('wasm');
      expect(info.package).toBe('@tensorflow/tfjs-backend-wasm');
      expect(info.simd).toBe(true);
      expect(info.threads).toBeGreaterThanOrEqual(1);
      expect(tf.getBackend()).toBe('wasm');
      expect(describeBackend(info)).toMatch(
        /^backend: wasm \(@tensorflow\/tfjs-backend-wasm, SIMD, \d+ threads?\)$/,
      );
      expect(describeBackend()).toBe(describeBackend(info));
      for (const config of WASM_TRAINING_KERNELS)
        expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    },
  );

  it('is idempotent', async () => {
    const a = await initBackend('wasm');
    const b = await initBackend('wasm');
    expect(b).toBe(a);
    // Tensors still compute after re-initialisation.
    expect(Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync())).toEqual([4, 6]);
  });

  it('forces cpu by argument', async () => {
    const info = await initBackend('cpu');
    expect(info).toEqual({ name: 'cpu', package: '@tensorflow/tfjs-backend-cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(describeBackend(info)).toBe('backend: cpu (@tensorflow/tfjs-backend-cpu)');
  });

  it('forces a backend by the environment variable when no argument is given', async () => {
    process.env[BACKEND_ENV_VAR] = 'cpu';
    expect((await initBackend()).name).toBe('cpu');
    process.env[BACKEND_ENV_VAR] = 'wasm';
    expect((await initBackend()).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown name in the environment variable with an InputError', async () => {
    process.env[BACKEND_ENV_VAR] = 'webgl';
    await expect(initBackend()).rejects.toThrow(InputError);
    await expect(initBackend()).rejects.toThrow(/unknown backend 'webgl'/);
  });

  it.runIf(!hasNode)(
    'names the missing package when an unavailable backend is forced',
    async () => {
      await initBackend('wasm');
      const attempt = initBackend('tensorflow');
      await expect(attempt).rejects.toThrow(InputError);
      await expect(initBackend('tensorflow')).rejects.toThrow(/@tensorflow\/tfjs-node\b/);
      // The previous backend stays usable.
      expect(tf.getBackend()).toBe('wasm');
    },
  );

  it.runIf(!hasNodeGpu)('names the missing package for tensorflow-gpu too', async () => {
    await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu/);
  });
});

describe('parseBackendName', () => {
  it('accepts names and aliases, case-insensitively', () => {
    expect(parseBackendName('auto')).toBe('auto');
    expect(parseBackendName('WASM')).toBe('wasm');
    expect(parseBackendName('tfjs-node')).toBe('tensorflow');
    expect(parseBackendName('gpu')).toBe('tensorflow-gpu');
  });

  it('rejects anything else, listing the choices', () => {
    expect(() => parseBackendName('webgpu')).toThrow(
      /expected auto, tensorflow-gpu, tensorflow, wasm, cpu/,
    );
  });
});
