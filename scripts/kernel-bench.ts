/**
 * Micro-benchmark of a DARTS_V2-like training step (C=16, 8 cells, 32x32x3, batch 64) on the
 * chosen backend, with per-kernel times from tf.profile. Built from raw ops (not the project's
 * network), so it runs before and independently of src/evaluator/network.ts.
 *
 *   npx tsx scripts/kernel-bench.ts [--backend wasm] [--batch 64] [--steps 3]
 *   (or: npx tsc -p tsconfig.json --outDir /tmp/kb && node /tmp/kb/scripts/kernel-bench.js)
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeBackend, initBackend, parseBackendName } from '../src/evaluator/backend.js';
import { arg, kernelTimes } from './profile-helpers.js';

const batch = Number(arg('batch', '64'));
const steps = Number(arg('steps', '3'));
const C = Number(arg('channels', '16'));
const cells = Number(arg('layers', '8'));

let seed = 1;
function param(shape: number[], fill?: number): tf.Variable {
  return tf.variable(
    fill === undefined ? tf.randomNormal(shape, 0, 0.1, 'float32', seed++) : tf.fill(shape, fill),
  );
}

type Op = (x: tf.Tensor4D) => tf.Tensor4D;

function bn(c: number): Op {
  const g = param([c], 1);
  const b = param([c], 0);
  return (x) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const scale = tf.mul(g, tf.rsqrt(tf.add(variance, 1e-5)));
    const shift = tf.sub(b, tf.mul(mean, scale));
    return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  };
}
function conv(cin: number, cout: number, k: number, stride = 1): Op {
  const w = param([k, k, cin, cout]);
  return (x) => tf.conv2d(x, w as tf.Tensor4D, stride, 'same');
}
function dw(c: number, k: number, stride = 1, dil = 1): Op {
  const w = param([k, k, c, 1]);
  return (x) => tf.depthwiseConv2d(x, w as tf.Tensor4D, stride, 'same', 'NHWC', dil);
}
function seq(...ops: Op[]): Op {
  return (x) => ops.reduce((y, op) => op(y), x);
}
const relu: Op = (x) => tf.relu(x);
const reluConvBn = (cin: number, cout: number): Op => seq(relu, conv(cin, cout, 1), bn(cout));
const sepConv = (c: number, k: number, stride: number): Op =>
  seq(relu, dw(c, k, stride), conv(c, c, 1), bn(c), relu, dw(c, k, 1), conv(c, c, 1), bn(c));
const dilConv = (c: number, k: number, stride: number): Op =>
  seq(relu, dw(c, k, stride, stride === 1 ? 2 : 1), conv(c, c, 1), bn(c));
function factorizedReduce(cin: number, cout: number): Op {
  const a = conv(cin, cout / 2, 1, 2);
  const b = conv(cin, cout / 2, 1, 2);
  const norm = bn(cout);
  return (x) => {
    const r = tf.relu(x);
    const shifted = tf.slice(
      tf.pad(r, [
        [0, 0],
        [0, 1],
        [0, 1],
        [0, 0],
      ]),
      [0, 1, 1, 0],
      r.shape,
    );
    return norm(tf.concat([a(r), b(shifted as tf.Tensor4D)], 3) as tf.Tensor4D);
  };
}
const maxPool =
  (stride: number): Op =>
  (x) =>
    tf.maxPool(x, 3, stride, 'same');

/** DARTS_V2's cells, simplified: the op mix and shapes are what matter for kernel timing. */
function cell(cpp: number, cp: number, c: number, reduction: boolean, reductionPrev: boolean): Op {
  const pre0 = reductionPrev ? factorizedReduce(cpp, c) : reluConvBn(cpp, c);
  const pre1 = reluConvBn(cp, c);
  void pre0;
  if (!reduction) {
    const ops = [
      sepConv(c, 3, 1),
      sepConv(c, 3, 1),
      sepConv(c, 3, 1),
      sepConv(c, 3, 1),
      sepConv(c, 3, 1),
      dilConv(c, 3, 1),
    ];
    return (x) => {
      const s1 = pre1(x);
      const s0 = s1;
      const n0 = tf.add(ops[0]!(s0), ops[1]!(s1)) as tf.Tensor4D;
      const n1 = tf.add(ops[2]!(s0), ops[3]!(s1)) as tf.Tensor4D;
      const n2 = tf.add(ops[4]!(s1), s0) as tf.Tensor4D;
      const n3 = tf.add(s0, ops[5]!(n0)) as tf.Tensor4D;
      return tf.concat([n0, n1, n2, n3], 3) as tf.Tensor4D;
    };
  }
  const fr = factorizedReduce(c, c);
  return (x) => {
    const s1 = pre1(x);
    const n0 = tf.add(maxPool(2)(s1), maxPool(2)(s1)) as tf.Tensor4D;
    const n1 = tf.add(n0, maxPool(2)(s1)) as tf.Tensor4D;
    const n2 = tf.add(maxPool(2)(s1), n0) as tf.Tensor4D;
    const n3 = tf.add(n0, fr(s1)) as tf.Tensor4D;
    return tf.concat([n0, n1, n2, n3], 3) as tf.Tensor4D;
  };
}

async function main(): Promise<void> {
  const info = await initBackend(parseBackendName(arg('backend', 'auto')));
  console.error(describeBackend(info));
  const stem = seq(conv(3, 3 * C, 3), bn(3 * C));
  const layers: Op[] = [];
  let cpp = 3 * C;
  let cp = 3 * C;
  let c = C;
  let reductionPrev = false;
  for (let i = 0; i < cells; i++) {
    const reduction = i === Math.floor(cells / 3) || i === Math.floor((2 * cells) / 3);
    if (reduction) c *= 2;
    layers.push(cell(cpp, cp, c, reduction, reductionPrev));
    reductionPrev = reduction;
    cpp = cp;
    cp = 4 * c;
  }
  const fc = param([cp, 10]);
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const loss = (): tf.Scalar => {
    let h = stem(x);
    for (const l of layers) h = l(h);
    const logits = tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, fc as tf.Tensor2D);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const step = (): void => {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(loss);
      tf.addN(Object.values(grads).map((g) => tf.sum(g))).dataSync();
    });
  };
  step(); // warm-up (XNNPACK operator caches, allocations)
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.buffer
    .byteLength;
  if (heap) console.log(`wasm heap after one step: ${(heap / 2 ** 20).toFixed(0)} MB`);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const ms = (performance.now() - t0) / steps;
  const profile = await tf.profile(step);
  const { rows, total } = kernelTimes(profile.kernels);
  console.log(
    `train step: ${ms.toFixed(0)} ms/batch of ${batch} = ${((batch * 1000) / ms).toFixed(1)} img/s; kernels sum ${total.toFixed(0)} ms (profiled step)`,
  );
  for (const [name, e] of rows.slice(0, Number(arg('top', '25'))))
    console.log(
      `${name.padEnd(38)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)} calls ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`,
    );
}

await main();
