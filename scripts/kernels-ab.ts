/**
 * A/B of one speed change at a time, in one process, alternating step by step so that both sides
 * see the same machine load: whole training steps and PGD input-gradient steps of the CIFAR (or
 * MNIST) bench workload, batch 64, plus (for `fma`) the bare 1x1 and depthwise kernels.
 *
 *   --ab fma      relaxed-SIMD kernels (f32x4.relaxed_madd, FMA) against the plain SIMD build
 *   --ab argmax   max pooling keeping its argmax against searching the windows again
 *   --ab relu     ReLU fused into the 1x1 convolution after it against a separate ReLU
 *
 *   npx esbuild scripts/kernels-ab.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist-bench/kernels-ab.mjs && \
 *     node dist-bench/kernels-ab.mjs --ab fma [--workload cifar] [--steps 6] [--json out.json]
 *
 * Prints best and median CPU ms per side and the ratios B/A of CPU and of wall time (above 1: A
 * is faster). CPU time (process.cpuUsage) leaves out the waits for a core of a loaded machine.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { buildModel } from '../src/evaluator/architecture.js';
import { describeBackend, initBackend } from '../src/evaluator/backend.js';
import { inputGradient } from '../src/evaluator/input-gradient.js';
import { Sgd } from '../src/evaluator/sgd.js';
import { WORKLOADS, type WorkloadName } from '../src/evaluator/throughput-bench.js';
import { trainStep } from '../src/evaluator/train-step.js';
import { setReluFusion } from '../src/evaluator/layers/relu-conv.js';
import { useKernelVariant } from '../src/evaluator/wasm-kernels/kernels-module.js';
import { setMaxPoolArgmax } from '../src/evaluator/wasm-kernels/max-pool-argmax.js';
import { getPublishedGenotype } from '../src/core/published-genotypes.js';
import { arg } from './profile-helpers.js';

const ab = arg('ab', 'fma');
const workload = arg('workload', 'cifar') as WorkloadName;
const steps = Number(arg('steps', '6'));
const batch = Number(arg('batch', '64'));
const reps = Number(arg('reps', '25'));
const jsonPath = arg('json', '');

const SIDES: Record<string, [string, string, (side: 0 | 1) => void]> = {
  fma: ['relaxed-simd', 'simd128', (s) => useKernelVariant(s === 0 ? 'relaxed-simd' : 'simd128')],
  argmax: ['argmax kept', 'argmax searched', (s) => setMaxPoolArgmax(s === 0)],
  relu: ['relu fused', 'relu separate', (s) => setReluFusion(s === 0)],
};
const side = SIDES[ab];
if (!side) throw new Error(`--ab must be one of ${Object.keys(SIDES).join(', ')}, got ${ab}`);
const w = WORKLOADS[workload];
if (!w) throw new Error(`--workload must be one of ${Object.keys(WORKLOADS).join(', ')}`);
const [nameA, nameB, use] = side;

const info = await initBackend('wasm');
console.error(describeBackend(info));
const load0 = loadavg();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const best = (xs: number[]) => Math.min(...xs);

interface Times {
  /** Wall-clock ms per call. */
  wall: [number[], number[]];
  /**
   * This process's CPU ms per call (process.cpuUsage, user + system): on a loaded machine it
   * leaves out the time the process waits for a core, which wall time does not.
   */
  cpu: [number[], number[]];
}

/** Times `f` alternately on side A and B, `n` times each after one untimed round. */
function alternate(n: number, f: () => void): Times {
  const t: Times = { wall: [[], []], cpu: [[], []] };
  for (let i = 0; i <= n; i++)
    for (const s of [0, 1] as const) {
      use(s);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      f();
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (i > 0) {
        t.wall[s].push(wall);
        t.cpu[s].push((c.user + c.system) / 1000);
      }
    }
  return t;
}

interface Row extends Times {
  name: string;
}
const rows: Row[] = [];
const ratio = (b: number[], a: number[], f: (xs: number[]) => number) => f(b) / f(a);
function report(name: string, t: Times): void {
  rows.push({ name, ...t });
  const [a, b] = t.cpu;
  console.log(
    `${name}: CPU ms ${nameA} best ${best(a).toFixed(2)} median ${median(a).toFixed(2)} | ` +
      `${nameB} best ${best(b).toFixed(2)} median ${median(b).toFixed(2)} | ` +
      `B/A CPU best ${ratio(b, a, best).toFixed(3)} median ${ratio(b, a, median).toFixed(3)}, ` +
      `wall best ${ratio(t.wall[1], t.wall[0], best).toFixed(3)} median ${ratio(t.wall[1], t.wall[0], median).toFixed(3)} (${a.length} each)`,
  );
}

if (ab === 'fma') {
  // The bare kernels on CIFAR DARTS_V2 shapes (batch 64): 1x1 forward (and 1x1 input gradient,
  // the same kernel), 1x1 filter gradient, depthwise 3x3 and 5x5 forward and filter gradient.
  const kernelCases: [string, () => tf.Tensor][] = [];
  for (const [h, ci, co] of [
    [32, 16, 16],
    [32, 48, 16],
    [16, 32, 32],
    [8, 64, 64],
  ] as const) {
    const x = tf.randomUniform([batch, h, h, ci], -1, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomUniform([1, 1, ci, co], -1, 1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomUniform([batch, h, h, co], -1, 1, 'float32', 3) as tf.Tensor4D;
    kernelCases.push([`conv1x1 ${h}x${h} ${ci}->${co} forward`, () => tf.conv2d(x, f, 1, 0)]);
    kernelCases.push([
      `conv1x1 ${h}x${h} ${ci}->${co} forward+dFilter`,
      () =>
        tf.grad((ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ff as tf.Tensor4D, 1, 0), dy)))(f),
    ]);
  }
  for (const [h, c, k, d] of [
    [32, 16, 3, 1],
    [16, 32, 5, 1],
    [16, 32, 3, 2],
  ] as const) {
    const x = tf.randomUniform([batch, h, h, c], -1, 1, 'float32', 4) as tf.Tensor4D;
    const f = tf.randomUniform([k, k, c, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
    const pad = (d * (k - 1)) / 2;
    kernelCases.push([
      `depthwise ${k}x${k} d${d} ${h}x${h}x${c} forward`,
      () => tf.depthwiseConv2d(x, f, 1, pad, 'NHWC', d),
    ]);
    const dy = tf.depthwiseConv2d(x, f, 1, pad, 'NHWC', d);
    kernelCases.push([
      `depthwise ${k}x${k} d${d} ${h}x${h}x${c} forward+dFilter`,
      () =>
        tf.grad((ff: tf.Tensor) =>
          tf.sum(tf.mul(tf.depthwiseConv2d(x, ff as tf.Tensor4D, 1, pad, 'NHWC', d), dy)),
        )(f),
    ]);
  }
  for (const [name, f] of kernelCases)
    report(
      name,
      alternate(reps, () => {
        const r = f();
        r.dataSync();
        r.dispose();
      }),
    );
}

const model = buildModel(
  { genotype: getPublishedGenotype(w.genotype) },
  {
    channels: w.channels,
    layers: w.layers,
    numClasses: w.numClasses,
    inputShape: [...w.inputShape] as [number, number, number],
    seed: 0,
  },
);
const x = tf.randomUniform([batch, ...w.inputShape], 0, 1, 'float32', 7) as tf.Tensor4D;
const y = tf.tensor1d(
  Array.from({ length: batch }, (_, i) => i % w.numClasses),
  'int32',
);
const sgd = new Sgd({ learningRate: 0.025, momentum: 0.9, weightDecay: 3e-4 });
report(
  `${workload} train step`,
  alternate(steps, () => void trainStep(model, sgd, x, y)),
);
report(
  `${workload} PGD step`,
  alternate(steps, () => {
    const { gradient, logits } = inputGradient(model, x, y);
    gradient.dataSync();
    gradient.dispose();
    logits.dispose();
  }),
);
const load1 = loadavg();
console.log(
  `load average ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ` +
    `${load1.map((l) => l.toFixed(1)).join(' ')} at end; tensors alive: ${tf.memory().numTensors}`,
);
if (jsonPath)
  writeFileSync(
    jsonPath,
    `${JSON.stringify(
      {
        ab,
        sides: [nameA, nameB],
        workload,
        batch,
        backend: describeBackend(info),
        machine: { cores: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
        loadAverage: { start: load0, end: load1 },
        date: new Date().toISOString(),
        rows: rows.map((r) => ({
          name: r.name,
          wallMsA: r.wall[0],
          wallMsB: r.wall[1],
          cpuMsA: r.cpu[0],
          cpuMsB: r.cpu[1],
          cpu: {
            bestRatioBoverA: ratio(r.cpu[1], r.cpu[0], best),
            medianRatioBoverA: ratio(r.cpu[1], r.cpu[0], median),
          },
          wall: {
            bestRatioBoverA: ratio(r.wall[1], r.wall[0], best),
            medianRatioBoverA: ratio(r.wall[1], r.wall[0], median),
          },
        })),
      },
      null,
      2,
    )}\n`,
  );
