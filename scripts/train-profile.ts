/**
 * Profiles one training step (and one PGD input-gradient step) of the project's real network
 * (buildModel + trainStep) on the chosen backend: wall time per step, wasm heap high-water mark,
 * and per-kernel call counts and times from tf.profile.
 *
 *   npx esbuild scripts/train-profile.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=/tmp/train-profile.mjs && node /tmp/train-profile.mjs \
 *     [--backend wasm] [--no-fused-bn] [--batch 64] [--steps 3] [--hw 32 --in-ch 3 --C 16 --layers 8] [--top 30]
 *     [--repeats 1] [--json out.json]
 *
 * --repeats profiles each step that many times (medians are reported); --json writes
 * {"train": {...}, "pgd": {...}}: best wall ms per step, kernel ms per category (the categories
 * bench/torch_profile.py uses for PyTorch's ops) and per kernel. bench/profile-table.mjs puts
 * such a file side by side with torch_profile.py's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Cast, Identity, type KernelConfig } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { buildModel } from '../src/evaluator/architecture.js';
import { describeBackend, initBackend, parseBackendName } from '../src/evaluator/backend.js';
import { inputGradient } from '../src/evaluator/input-gradient.js';
import { BN_TRAIN_KERNEL } from '../src/evaluator/wasm-kernels/batch-norm-op.js';
import { Sgd } from '../src/evaluator/sgd.js';
import { trainStep } from '../src/evaluator/train-step.js';
import { getPublishedGenotype } from '../src/core/published-genotypes.js';
import { writeFileSync } from 'node:fs';
import { arg, kernelCategory, kernelTimes } from './profile-helpers.js';

const batch = Number(arg('batch', '64'));
const steps = Number(arg('steps', '3'));
const hw = Number(arg('hw', '32'));
const inCh = Number(arg('in-ch', '3'));
const C = Number(arg('C', '16'));
const layers = Number(arg('layers', '8'));
const top = Number(arg('top', '30'));
const phase = arg('phase', 'both');
const repeats = Number(arg('repeats', '1'));
const jsonOut = arg('json', '');

interface StepReport {
  best_ms: number;
  profiled_ms: number;
  categories: Record<string, number>;
  ops: Record<string, number>;
  heap_mb?: number;
  peak_live_mb_per_image?: number;
  js_wasm_copies: { to_wasm_mb: number; to_js_mb: number; ms: number };
}
const report: Record<string, StepReport> = {};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianOf(ds: Record<string, number>[]): Record<string, number> {
  const keys = new Set(ds.flatMap((d) => Object.keys(d)));
  return Object.fromEntries([...keys].map((k) => [k, median(ds.map((d) => d[k] ?? 0))]));
}

function heapMb(): number | undefined {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.buffer.byteLength / 2 ** 20 : undefined;
}

/**
 * Live bytes of tensor data on the wasm heap (what the heap must hold; the heap itself only grows,
 * in large increments): counted at each allocation (backend.move) and each real free.
 */
const live = { bytes: 0, peak: 0 };
/** Copies between JavaScript and the wasm heap (uploads of values, read-backs) since the last reset. */
const copies = { toWasmBytes: 0, toJsBytes: 0, ms: 0 };
function meterCopies(): void {
  const b = tf.backend() as unknown as {
    wasm?: unknown;
    readSync(dataId: object): ArrayLike<number>;
    read(dataId: object): Promise<ArrayLike<number>>;
  };
  if (!b.wasm) return;
  const readSync = b.readSync.bind(b);
  b.readSync = (dataId) => {
    const t = performance.now();
    const v = readSync(dataId);
    copies.ms += performance.now() - t;
    copies.toJsBytes += (v as { byteLength?: number }).byteLength ?? v.length * 4;
    return v;
  };
  const read = b.read.bind(b);
  b.read = async (dataId) => {
    const t = performance.now();
    const v = await read(dataId);
    copies.ms += performance.now() - t;
    copies.toJsBytes += (v as { byteLength?: number }).byteLength ?? v.length * 4;
    return v;
  };
}

function meterWasmData(): void {
  const b = tf.backend() as unknown as {
    wasm?: unknown;
    move(dataId: object, values: unknown, shape: number[], dtype: string, rc: number): void;
    disposeData(dataId: object, force?: boolean): boolean;
    dataIdMap: { get(d: object): { shape: number[]; dtype: string; refCount: number } | undefined };
  };
  if (!b.wasm) return;
  const size = (shape: number[], dtype: string) =>
    dtype === 'string' ? 0 : shape.reduce((a, d) => a * d, 1) * (dtype === 'complex64' ? 8 : 4);
  const move = b.move.bind(b);
  b.move = (dataId, values, shape, dtype, rc) => {
    const t = performance.now();
    move(dataId, values, shape, dtype, rc);
    if (values) {
      copies.toWasmBytes += size(shape, dtype);
      copies.ms += performance.now() - t;
    }
    live.bytes += size(shape, dtype);
    live.peak = Math.max(live.peak, live.bytes);
  };
  const dispose = b.disposeData.bind(b);
  b.disposeData = (dataId, force) => {
    const d = b.dataIdMap.get(dataId);
    const freed = dispose(dataId, force);
    if (d && freed) live.bytes -= size(d.shape, d.dtype);
    return freed;
  };
}

async function profileOf(key: string, label: string, step: () => void): Promise<void> {
  step(); // warm-up
  const t0 = performance.now();
  let bestMs = Infinity;
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step();
    bestMs = Math.min(bestMs, performance.now() - t);
  }
  const ms = (performance.now() - t0) / steps;
  const cats: Record<string, number>[] = [];
  const ops: Record<string, number>[] = [];
  const walls: number[] = [];
  for (let r = 1; r < repeats; r++) {
    const t = performance.now();
    const p = await tf.profile(step);
    walls.push(performance.now() - t);
    cats.push(
      Object.fromEntries(kernelTimes(p.kernels, kernelCategory).rows.map(([n, e]) => [n, e.ms])),
    );
    ops.push(Object.fromEntries(kernelTimes(p.kernels).rows.map(([n, e]) => [n, e.ms])));
  }
  const before = live.bytes;
  live.peak = before;
  const tp = performance.now();
  copies.toWasmBytes = copies.toJsBytes = copies.ms = 0;
  const profile = await tf.profile(step);
  const copied = { ...copies };
  walls.push(performance.now() - tp);
  const peakLive = (live.peak - before) / 2 ** 20;
  cats.push(
    Object.fromEntries(
      kernelTimes(profile.kernels, kernelCategory).rows.map(([n, e]) => [n, e.ms]),
    ),
  );
  ops.push(Object.fromEntries(kernelTimes(profile.kernels).rows.map(([n, e]) => [n, e.ms])));
  const { rows, total } = kernelTimes(profile.kernels);
  const heap = heapMb();
  report[key] = {
    best_ms: bestMs,
    profiled_ms: median(walls),
    categories: medianOf(cats),
    ops: medianOf(ops),
    ...(heap ? { heap_mb: heap, peak_live_mb_per_image: peakLive / batch } : {}),
    js_wasm_copies: {
      to_wasm_mb: copied.toWasmBytes / 2 ** 20,
      to_js_mb: copied.toJsBytes / 2 ** 20,
      ms: copied.ms,
    },
  };
  console.log(
    `  copies between JavaScript and the wasm heap in the profiled step: ` +
      `${(copied.toWasmBytes / 2 ** 20).toFixed(2)} MB in, ${(copied.toJsBytes / 2 ** 20).toFixed(2)} MB out, ` +
      `${copied.ms.toFixed(1)} ms`,
  );
  console.log(
    `${label}: ${ms.toFixed(0)} ms/batch of ${batch} = ${((batch * 1000) / ms).toFixed(1)} img/s; ` +
      `${profile.kernels.length} kernel calls, kernels sum ${total.toFixed(0)} ms; ` +
      `peak bytes ${(profile.peakBytes / 2 ** 20).toFixed(0)} MB` +
      (heap
        ? `; wasm heap ${heap.toFixed(0)} MB, peak live data above the step's start ` +
          `${peakLive.toFixed(0)} MB = ${(peakLive / batch).toFixed(1)} MB/image`
        : ''),
  );
  for (const [name, e] of rows.slice(0, top))
    console.log(
      `  ${name.padEnd(36)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`,
    );
  // --detail <kernel>: that kernel's calls grouped by input shapes.
  const detail = arg('detail', '');
  if (detail) {
    const byShape = kernelTimes(
      profile.kernels.filter((k) => k.name === detail),
      (k) => JSON.stringify(k.inputShapes),
    ).rows;
    for (const [key, e] of byShape)
      console.log(`    ${detail} ${key}: ${e.ms.toFixed(1)} ms in ${e.calls} calls`);
  }
}

/** tfjs-backend-wasm's own (copying) Identity and Cast, as registered before ours replace them. */
const copyingKernels = [Identity, Cast]
  .map((name) => tf.getKernel(name, 'wasm'))
  .filter((k): k is KernelConfig => k !== undefined);

async function main(): Promise<void> {
  const info = await initBackend(parseBackendName(arg('backend', 'wasm')));
  if (process.argv.includes('--copying-identity')) {
    for (const k of copyingKernels) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
    console.error("tfjs-backend-wasm's copying Identity and Cast restored");
  }
  console.error(describeBackend(info));
  meterWasmData();
  meterCopies();
  // --no-fused-bn: measure the plain-ops BatchNorm (for before/after figures).
  if (process.argv.includes('--no-fused-bn')) tf.unregisterKernel(BN_TRAIN_KERNEL, 'wasm');
  const model = buildModel(
    { genotype: getPublishedGenotype('DARTS_V2') },
    { channels: C, layers, numClasses: 10, inputShape: [hw, hw, inCh], seed: 0 },
  );
  const x = tf.randomUniform([batch, hw, hw, inCh], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  );
  const sgd = new Sgd({ learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  if (phase !== 'pgd')
    await profileOf('train', 'train step', () => void trainStep(model, sgd, x, y));
  if (phase !== 'train')
    await profileOf('pgd', 'pgd step', () => {
      const { gradient, logits } = inputGradient(model, x, y);
      gradient.dataSync();
      gradient.dispose();
      logits.dispose();
    });
  console.log(`tensors alive: ${tf.memory().numTensors}`);
  if (jsonOut)
    writeFileSync(
      jsonOut,
      JSON.stringify({ backend: tf.getBackend(), batch, ...report }, null, 1) + '\n',
    );
}

await main();
