/**
 * Throughput benchmark: training images/s (training-mode forward, backward, SGD-momentum update,
 * BN statistics) and PGD-step images/s (inference-mode forward, gradient w.r.t. the input, sign
 * step, projection to the eps-ball and [0, 1]) on reference workloads, warm-up steps excluded.
 * With workers > 1, that many copies run at once in worker threads (each with its own backend)
 * behind a barrier per phase, and the figures are summed. The report is one plain object that other
 * sections (such as search overhead) can be merged into.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../core/rng.js';
import { getPublishedGenotype } from '../core/published-genotypes.js';
import { buildModel } from './architecture.js';
import { type BackendInfo, type BackendName, initBackend } from './backend.js';
import { pgdStep } from './attacks/pgd.js';
import { Sgd } from './sgd.js';
import { trainStep } from './train-step.js';

export const WORKLOADS = {
  cifar: { genotype: 'DARTS_V2', channels: 16, layers: 8, inputShape: [32, 32, 3], numClasses: 10 },
  mnist: { genotype: 'DARTS_V2', channels: 8, layers: 5, inputShape: [28, 28, 1], numClasses: 10 },
} as const;
export type WorkloadName = keyof typeof WORKLOADS;

export const BENCH_BATCH = 64;
export const PGD_EPS = 8 / 255;
export const PGD_ALPHA = 2 / 255;

export interface ThroughputBenchOptions {
  backend?: BackendName | 'auto';
  workers?: number;
  /** Timed steps per phase (default 10). */
  steps?: number;
  /** Untimed warm-up steps per phase (default 2). */
  warmupSteps?: number;
  workloads?: readonly WorkloadName[];
}

export interface WorkloadFigures {
  readonly trainImagesPerSecond: number;
  readonly pgdStepImagesPerSecond: number;
}

export interface WorkloadResult extends WorkloadFigures {
  readonly workload: WorkloadName;
  readonly genotype: string;
  readonly channels: number;
  readonly layers: number;
  readonly inputShape: readonly number[];
  readonly batch: number;
  readonly params: number;
  readonly macs: number;
  /** Per worker thread, when workers > 1. */
  readonly perWorker?: readonly WorkloadFigures[];
}

export interface ThroughputReport {
  readonly machine: { cores: number; cpuModel: string; node: string; platform: string };
  readonly backend: BackendInfo;
  readonly workers: number;
  readonly steps: number;
  readonly warmupSteps: number;
  readonly batch: number;
  readonly workloads: readonly WorkloadResult[];
}

/** Phases of one workload; `barrier` is awaited before each timed phase (for parallel workers). */
export async function measureWorkload(
  name: WorkloadName,
  steps: number,
  warmupSteps: number,
  barrier: () => Promise<void> = async () => {},
): Promise<WorkloadFigures & { params: number; macs: number }> {
  const w = WORKLOADS[name];
  const inputShape = [...w.inputShape] as [number, number, number];
  const model = buildModel(
    { genotype: getPublishedGenotype(w.genotype) },
    { channels: w.channels, layers: w.layers, numClasses: w.numClasses, inputShape, seed: 0 },
  );
  const rng = Rng.fromSeed(`bench:${name}`);
  const x = tf.randomUniform(
    [BENCH_BATCH, ...inputShape],
    0,
    1,
    'float32',
    rng.seed32(),
  ) as tf.Tensor4D;
  const y = tf.tensor1d(
    Array.from({ length: BENCH_BATCH }, () => rng.int(w.numClasses)),
    'int32',
  );
  const optimizer = new Sgd({ learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  try {
    const train = () => trainStep(model, optimizer, x, y);
    for (let i = 0; i < warmupSteps; i++) train();
    await barrier();
    let t = performance.now();
    for (let i = 0; i < steps; i++) train();
    const trainSeconds = (performance.now() - t) / 1000;

    let adv = tf.clone(x);
    const attackStep = () => {
      const next = pgdStep(model, adv, x, y, PGD_ALPHA, PGD_EPS);
      adv.dispose();
      adv = next;
      adv.dataSync();
    };
    for (let i = 0; i < warmupSteps; i++) attackStep();
    await barrier();
    t = performance.now();
    for (let i = 0; i < steps; i++) attackStep();
    const pgdSeconds = (performance.now() - t) / 1000;
    adv.dispose();
    return {
      trainImagesPerSecond: round((steps * BENCH_BATCH) / trainSeconds),
      pgdStepImagesPerSecond: round((steps * BENCH_BATCH) / pgdSeconds),
      params: model.params,
      macs: model.macs,
    };
  } finally {
    optimizer.dispose();
    model.dispose();
    x.dispose();
    y.dispose();
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

export function machineInfo(): ThroughputReport['machine'] {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export async function runThroughputBench(
  options: ThroughputBenchOptions = {},
): Promise<ThroughputReport> {
  const workers = options.workers ?? 1;
  const steps = options.steps ?? 10;
  const warmupSteps = options.warmupSteps ?? 2;
  const names = options.workloads ?? (['cifar', 'mnist'] as const);
  const backend = await initBackend(options.backend);
  const results: WorkloadResult[] = [];
  for (const name of names) {
    const w = WORKLOADS[name];
    const base = {
      workload: name,
      genotype: w.genotype,
      channels: w.channels,
      layers: w.layers,
      inputShape: [...w.inputShape],
      batch: BENCH_BATCH,
    };
    if (workers <= 1) {
      const r = await measureWorkload(name, steps, warmupSteps);
      results.push({ ...base, ...r });
    } else {
      const per = await runInWorkers(name, workers, steps, warmupSteps, backend.name);
      results.push({
        ...base,
        params: per[0]?.params ?? 0,
        macs: per[0]?.macs ?? 0,
        trainImagesPerSecond: round(per.reduce((a, r) => a + r.trainImagesPerSecond, 0)),
        pgdStepImagesPerSecond: round(per.reduce((a, r) => a + r.pgdStepImagesPerSecond, 0)),
        perWorker: per.map((r) => ({
          trainImagesPerSecond: r.trainImagesPerSecond,
          pgdStepImagesPerSecond: r.pgdStepImagesPerSecond,
        })),
      });
    }
  }
  return {
    machine: machineInfo(),
    backend,
    workers,
    steps,
    warmupSteps,
    batch: BENCH_BATCH,
    workloads: results,
  };
}

/** Messages between the bench and its worker threads. */
export type BenchWorkerMessage =
  | { type: 'ready' }
  | { type: 'result'; result: WorkloadFigures & { params: number; macs: number } }
  | { type: 'error'; message: string };

async function runInWorkers(
  name: WorkloadName,
  count: number,
  steps: number,
  warmupSteps: number,
  backend: BackendName,
): Promise<(WorkloadFigures & { params: number; macs: number })[]> {
  const url = new URL('./bench-worker.js', import.meta.url);
  const threads = Array.from(
    { length: count },
    () => new Worker(url, { workerData: { name, steps, warmupSteps, backend } }),
  );
  let waiting = 0;
  const results = threads.map(
    (worker) =>
      new Promise<WorkloadFigures & { params: number; macs: number }>((resolve, reject) => {
        worker.on('message', (m: BenchWorkerMessage) => {
          if (m.type === 'ready') {
            waiting += 1;
            if (waiting === count) {
              waiting = 0;
              for (const t of threads) t.postMessage('go');
            }
          } else if (m.type === 'result') resolve(m.result);
          else reject(new Error(`bench worker failed: ${m.message}`));
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (code !== 0) reject(new Error(`bench worker exited with code ${code}`));
        });
      }),
  );
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
