/**
 * The two builds of our wasm kernels (kernels-module.ts): plain SIMD (simd128) and relaxed SIMD
 * (f32x4.relaxed_madd, a fused multiply-add where the CPU has FMA). Every convolution kernel that
 * uses the multiply-add (1x1 forward / matrix product, depthwise forward, dense, 1x1 and depthwise
 * filter and input gradients) is run through tfjs on the same seeded inputs with each build:
 * relaxed-simd must agree with simd128 to float32 rounding (relative 1e-5 of the largest value),
 * differ from it somewhere when this machine fuses, and be bit-identical to it when it does not.
 * Each build is deterministic, and a worker thread and a child process (which select their
 * variant themselves) compute the same bits (and fingerprint hash) as this thread.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend, type BackendInfo } from '../../src/evaluator/backend.js';
import {
  KERNELS_ENV_VAR,
  kernelVariantLabel,
  parseKernelVariant,
  selectKernelVariant,
  useKernelVariant,
  type KernelVariant,
} from '../../src/evaluator/wasm-kernels/kernels-module.js';
import {
  FINGERPRINT_CASES as KERNEL_PROBE_CASES,
  kernelFingerprint,
  runFingerprintCase as runKernelProbe,
} from '../../src/evaluator/wasm-kernels/kernel-fingerprint.js';

const PROBE = resolve(import.meta.dirname, '../helpers/kernel-probe-child.mjs');

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    ref = Math.max(ref, Math.abs(b[i]!));
  }
  return diff / Math.max(ref, 1e-30);
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
}

describe('kernel variant selection', () => {
  it('parses ROBUST_NAS_WASM_KERNELS and names a bad value', () => {
    expect(parseKernelVariant(undefined)).toBe('auto');
    expect(parseKernelVariant('')).toBe('auto');
    expect(parseKernelVariant('auto')).toBe('auto');
    expect(parseKernelVariant('simd128')).toBe('simd128');
    expect(parseKernelVariant(' relaxed-simd ')).toBe('relaxed-simd');
    expect(() => parseKernelVariant('fma')).toThrow(
      `${KERNELS_ENV_VAR} must be auto, simd128 or relaxed-simd, got "fma"`,
    );
  });
});

describe('relaxed-SIMD kernels against the plain SIMD kernels', () => {
  let info: BackendInfo;
  let outputs: Record<KernelVariant, Float32Array[]>;

  beforeAll(async () => {
    info = await initBackend('wasm');
    const run = (variant: KernelVariant) => {
      useKernelVariant(variant);
      return KERNEL_PROBE_CASES.map((c) => runKernelProbe(c));
    };
    outputs = { simd128: run('simd128'), 'relaxed-simd': run('relaxed-simd') };
  });
  afterAll(() => {
    if (info.kernels) useKernelVariant(info.kernels.variant);
  });

  it('selects relaxed-simd exactly when the engine accepts it, and says so', () => {
    const k = info.kernels!;
    // Node 20 accepts it once the V8 flag is set (kernels-module.ts sets it): this machine's
    // Node must, or the whole relaxed build would be dead code here.
    expect(k.relaxedSupported).toBe(true);
    expect(k.variant).toBe(process.env[KERNELS_ENV_VAR] === 'simd128' ? 'simd128' : 'relaxed-simd');
    expect(selectKernelVariant()).toBe(k);
    expect(describeBackend(info)).toContain(
      `kernels ${k.variant}${k.variant === 'relaxed-simd' ? (k.fma ? ' FMA' : ' without FMA on this CPU') : ''}`,
    );
    expect(kernelVariantLabel(k)).toMatch(/^(simd128|relaxed-simd-fma|relaxed-simd-nofma)$/);
  });

  it.each(KERNEL_PROBE_CASES.map((c, i) => [c.name, i] as const))(
    '%s: relaxed-simd within float32 rounding of simd128',
    (_name, i) => {
      const a = outputs['relaxed-simd'][i]!;
      const b = outputs.simd128[i]!;
      expect(a.every(Number.isFinite)).toBe(true);
      expect(maxRelDiff(a, b)).toBeLessThan(1e-5);
    },
  );

  it('differs from simd128 in the last bits exactly when this machine fuses', async () => {
    await initBackend('wasm');
    useKernelVariant('relaxed-simd');
    const fused = selectKernelVariant('relaxed-simd').fma;
    const identical = KERNEL_PROBE_CASES.map((_, i) =>
      bitsEqual(outputs['relaxed-simd'][i]!, outputs.simd128[i]!),
    );
    if (fused)
      expect(identical.filter((x) => !x).length).toBeGreaterThan(KERNEL_PROBE_CASES.length / 2);
    else expect(identical.every((x) => x)).toBe(true);
  });

  it('each variant is deterministic and frees every tensor', () => {
    for (const variant of ['simd128', 'relaxed-simd'] as const) {
      useKernelVariant(variant);
      const before = tf.memory().numTensors;
      KERNEL_PROBE_CASES.forEach((c, i) =>
        expect(bitsEqual(runKernelProbe(c), outputs[variant][i]!)).toBe(true),
      );
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it('a worker thread and a child process compute the same bits (their own selection)', async () => {
    // What this process's own selection (env or auto) runs, as the worker and child select it.
    const expected = outputs[info.kernels!.variant];
    useKernelVariant(info.kernels!.variant);
    const own = kernelFingerprint();
    const fromWorker = await new Promise<{ label: string; hash: string; outputs: Float32Array[] }>(
      (resolveP, reject) => {
        const w = new Worker(PROBE, { workerData: {} });
        w.once('message', resolveP);
        w.once('error', reject);
      },
    );
    const { stdout } = await promisify(execFile)(process.execPath, [PROBE], {
      env: { ...process.env },
      maxBuffer: 64 << 20,
    });
    const child = JSON.parse(stdout) as { label: string; hash: string; outputs: number[][] };
    expect(fromWorker.hash).toBe(own.hash);
    expect(child.hash).toBe(own.hash);
    for (const got of [fromWorker.outputs, child.outputs.map((o) => Float32Array.from(o))]) {
      expect(got.length).toBe(expected.length);
      got.forEach((o, i) => expect(bitsEqual(o, expected[i]!)).toBe(true));
    }
    expect(fromWorker.label).toBe(kernelVariantLabel(info.kernels!));
    expect(child.label).toBe(kernelVariantLabel(info.kernels!));
  }, 60_000);
});
