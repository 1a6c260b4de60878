/**
 * Times single wasm kernels on the shapes a DARTS_V2 CIFAR network uses (best of --reps runs, so
 * that a loaded machine distorts the figures less): 1x1 convolution forward, input and filter
 * gradients, and depthwise 3x3/5x5 (dilated and not) forward, input and filter gradients.
 * Each is timed twice, interleaved run by run: with our forward kernels (conv-forward.ts; the
 * input gradients of stride-1 convolutions use them too) and with tfjs-backend-wasm's XNNPACK ones.
 * Run it with ROBUST_NAS_XNNPACK_CONV=1 so that the XNNPACK kernels are the registered ones.
 *
 *   npx esbuild scripts/conv-shape-bench.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=dist-bench/conv-shape-bench.mjs && \
 *     node dist-bench/conv-shape-bench.mjs [--batch 64] [--reps 7] [--only conv1x1|depthwise]
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2D,
  DepthwiseConv2dNative,
  FusedConv2D,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { convForwardConfigs } from '../src/evaluator/wasm-kernels/conv-forward.js';
import { describeBackend, initBackend } from '../src/evaluator/backend.js';
import { arg } from './profile-helpers.js';

const batch = Number(arg('batch', '64'));
const reps = Number(arg('reps', '7'));
const only = arg('only', '');

const names = [Conv2D, FusedConv2D, DepthwiseConv2dNative];
let xnnpack: KernelConfig[] = [];
let ours: KernelConfig[] = [];

function use(configs: KernelConfig[]): void {
  for (const c of configs) {
    tf.unregisterKernel(c.kernelName, 'wasm');
    tf.registerKernel(c);
  }
}

/** Best times of f with our kernels and with XNNPACK's, runs interleaved. */
function best(f: () => tf.Tensor): [number, number] {
  const min = [Infinity, Infinity];
  for (let i = 0; i <= reps; i++) {
    for (const v of [0, 1]) {
      use(v === 0 ? ours : xnnpack);
      const t0 = performance.now();
      const t = f(); // wasm kernels run synchronously: no read-back (it would dominate)
      if (i > 0) min[v] = Math.min(min[v]!, performance.now() - t0);
      t.dispose();
    }
  }
  use(ours);
  return [min[0]!, min[1]!];
}

function row(label: string, macs: number, [a, b]: [number, number]): void {
  const rate = (ms: number) => ((macs / ms) * 1e-6).toFixed(2).padStart(6);
  console.log(
    `${label.padEnd(40)} ours ${a.toFixed(2).padStart(7)} ms ${rate(a)} GMAC/s | ` +
      `xnnpack ${b.toFixed(2).padStart(7)} ms ${rate(b)} GMAC/s`,
  );
}

function conv1x1(hw: number, ci: number, co: number): void {
  const x = tf.randomNormal([batch, hw, hw, ci], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([1, 1, ci, co], 0, 1, 'float32', 2) as tf.Tensor4D;
  const dy = tf.randomNormal([batch, hw, hw, co], 0, 1, 'float32', 3) as tf.Tensor4D;
  const macs = batch * hw * hw * ci * co;
  const s = `${hw}x${hw} ${ci}->${co}`;
  row(
    `conv1x1 fwd ${s}`,
    macs,
    best(() => tf.conv2d(x, w, 1, 'valid')),
  );
  row(
    `conv1x1 dInput ${s}`,
    macs,
    best(
      () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
          strides: 1,
          pad: 'valid',
          inputShape: x.shape,
          dilations: 1,
        } as never) as tf.Tensor,
    ),
  );
  row(
    `conv1x1 dFilter ${s}`,
    macs,
    best(
      () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: 1,
          pad: 'valid',
          filterShape: w.shape,
          dilations: 1,
        } as never) as tf.Tensor,
    ),
  );
  tf.dispose([x, w, dy]);
}

function depthwise(hw: number, c: number, k: number, d: number, stride: number): void {
  const x = tf.randomNormal([batch, hw, hw, c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([k, k, c, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const pad = (d * (k - 1)) / 2;
  const ohw = Math.floor((hw + 2 * pad - d * (k - 1) - 1) / stride) + 1;
  const dy = tf.randomNormal([batch, ohw, ohw, c], 0, 1, 'float32', 3) as tf.Tensor4D;
  const macs = batch * ohw * ohw * c * k * k;
  const p = [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ] as [number, number][];
  const attrs = { strides: stride, pad: p, dilations: d };
  const s = `${hw}x${hw} C${c} ${k}x${k} d${d} s${stride}`;
  row(
    `dw fwd ${s}`,
    macs,
    best(() => tf.depthwiseConv2d(x, w, stride, p as never, 'NHWC', d)),
  );
  row(
    `dw dInput ${s}`,
    macs,
    best(
      () =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, {
          ...attrs,
          inputShape: x.shape,
        } as never) as tf.Tensor,
    ),
  );
  row(
    `dw dFilter ${s}`,
    macs,
    best(
      () =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
          ...attrs,
          filterShape: w.shape,
        } as never) as tf.Tensor,
    ),
  );
  tf.dispose([x, w, dy]);
}

if (process.env.ROBUST_NAS_XNNPACK_CONV !== '1')
  throw new Error('run with ROBUST_NAS_XNNPACK_CONV=1 (see the header)');
const info = await initBackend('wasm');
console.error(describeBackend(info));
xnnpack = names.map((n) => tf.getKernel(n, 'wasm')!);
ours = convForwardConfigs(xnnpack[0]!, xnnpack[1]!, xnnpack[2]!);
if (only !== 'depthwise') {
  for (const [hw, ci, co] of [
    [32, 16, 16],
    [16, 32, 32],
    [8, 64, 64],
    [32, 48, 16],
    [16, 128, 64],
    [8, 256, 64],
    [16, 128, 32],
  ] as const)
    conv1x1(hw, ci, co);
}
if (only !== 'conv1x1') {
  for (const [hw, c, k, d, s] of [
    [32, 16, 3, 1, 1],
    [32, 16, 3, 2, 1],
    [16, 32, 3, 1, 1],
    [16, 32, 3, 2, 1],
    [8, 64, 3, 1, 1],
    [8, 64, 3, 2, 1],
    [32, 16, 5, 1, 1],
    [32, 16, 5, 2, 1],
    [32, 32, 3, 1, 2],
    [16, 64, 3, 1, 2],
    [32, 16, 5, 1, 2],
  ] as const)
    depthwise(hw, c, k, d, s);
}
console.log(`tensors alive: ${tf.memory().numTensors}`);
