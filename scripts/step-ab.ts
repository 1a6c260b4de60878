/**
 * A/B of whole steps in one process: training steps and PGD input-gradient steps of the CIFAR
 * workload (DARTS_V2, buildModel + trainStep), alternating step by step between our forward
 * convolution kernels (conv-forward.ts) and tfjs-backend-wasm's XNNPACK ones, so that both see the
 * same machine load. Reports the best and the median step time of each.
 *
 *   npx esbuild scripts/step-ab.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=dist-bench/step-ab.mjs && ROBUST_NAS_XNNPACK_CONV=1 node dist-bench/step-ab.mjs \
 *     [--batch 64] [--steps 6] [--hw 32 --in-ch 3 --C 16 --layers 8]
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2D,
  DepthwiseConv2dNative,
  FusedConv2D,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { buildModel } from '../src/evaluator/architecture.js';
import { describeBackend, initBackend } from '../src/evaluator/backend.js';
import { inputGradient } from '../src/evaluator/input-gradient.js';
import { Sgd } from '../src/evaluator/sgd.js';
import { trainStep } from '../src/evaluator/train-step.js';
import { convForwardConfigs } from '../src/evaluator/wasm-kernels/conv-forward.js';
import { getPublishedGenotype } from '../src/core/published-genotypes.js';
import { arg } from './profile-helpers.js';

const batch = Number(arg('batch', '64'));
const steps = Number(arg('steps', '6'));
const hw = Number(arg('hw', '32'));
const inCh = Number(arg('in-ch', '3'));
const C = Number(arg('C', '16'));
const layers = Number(arg('layers', '8'));

if (process.env.ROBUST_NAS_XNNPACK_CONV !== '1')
  throw new Error('run with ROBUST_NAS_XNNPACK_CONV=1 (see the header)');
const info = await initBackend('wasm');
console.error(describeBackend(info));
const xnnpack = [Conv2D, FusedConv2D, DepthwiseConv2dNative].map((n) => tf.getKernel(n, 'wasm')!);
const ours = convForwardConfigs(xnnpack[0]!, xnnpack[1]!, xnnpack[2]!);
function use(configs: KernelConfig[]): void {
  for (const c of configs) {
    tf.unregisterKernel(c.kernelName, 'wasm');
    tf.registerKernel(c);
  }
}

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
const phases: [string, () => void][] = [
  ['train', () => void trainStep(model, sgd, x, y)],
  [
    'pgd',
    () => {
      const { gradient, logits } = inputGradient(model, x, y);
      gradient.dataSync();
      gradient.dispose();
      logits.dispose();
    },
  ],
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [name, step] of phases) {
  const times: Record<'ours' | 'xnnpack', number[]> = { ours: [], xnnpack: [] };
  for (let i = 0; i <= steps; i++)
    for (const v of ['ours', 'xnnpack'] as const) {
      use(v === 'ours' ? ours : xnnpack);
      const t = performance.now();
      step();
      if (i > 0) times[v].push(performance.now() - t);
    }
  const o = times.ours;
  const b = times.xnnpack;
  console.log(
    `${name}: ours best ${Math.min(...o).toFixed(0)} ms median ${median(o).toFixed(0)} ms | ` +
      `xnnpack best ${Math.min(...b).toFixed(0)} ms median ${median(b).toFixed(0)} ms | ` +
      `best-to-best ${(Math.min(...b) / Math.min(...o)).toFixed(2)}x, ` +
      `median-to-median ${(median(b) / median(o)).toFixed(2)}x (${steps} steps each)`,
  );
}
console.log(`tensors alive: ${tf.memory().numTensors}`);
