/**
 * A fingerprint of the arithmetic of this process's convolution kernels: fixed seeded inputs run
 * through the convolutions our wasm kernels compute (1x1 forward with bias, depthwise forward,
 * dense, 1x1 and depthwise filter and input gradients), and a hash of the output bits. Two
 * processes (or threads, or machines) with the same fingerprint compute bit-identical training
 * steps; relaxed-SIMD kernels with FMA give a different one from plain-SIMD kernels. Used by the
 * tests of the kernel variants and to compare the workers of a queue.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../core/rng.js';

export interface FingerprintCase {
  readonly name: string;
  readonly depthwise: boolean;
  /** [n, h, w, cin] */
  readonly x: readonly [number, number, number, number];
  readonly kernel: number;
  readonly cout: number;
  readonly stride: number;
  readonly dilation: number;
  readonly bias: boolean;
}

export const FINGERPRINT_CASES: readonly FingerprintCase[] = [
  {
    name: '1x1 conv, bias',
    depthwise: false,
    x: [2, 9, 7, 19],
    kernel: 1,
    cout: 37,
    stride: 1,
    dilation: 1,
    bias: true,
  },
  {
    name: '1x1 conv',
    depthwise: false,
    x: [4, 8, 8, 16],
    kernel: 1,
    cout: 32,
    stride: 1,
    dilation: 1,
    bias: false,
  },
  {
    name: '3x3 conv',
    depthwise: false,
    x: [2, 7, 9, 6],
    kernel: 3,
    cout: 10,
    stride: 1,
    dilation: 1,
    bias: false,
  },
  {
    name: '3x3 conv, stride 2',
    depthwise: false,
    x: [2, 9, 9, 8],
    kernel: 3,
    cout: 12,
    stride: 2,
    dilation: 1,
    bias: false,
  },
  {
    name: 'depthwise 3x3',
    depthwise: true,
    x: [3, 10, 11, 18],
    kernel: 3,
    cout: 1,
    stride: 1,
    dilation: 1,
    bias: false,
  },
  {
    name: 'depthwise 3x3, stride 2',
    depthwise: true,
    x: [2, 11, 11, 20],
    kernel: 3,
    cout: 1,
    stride: 2,
    dilation: 1,
    bias: false,
  },
  {
    name: 'depthwise 5x5, dilation 2',
    depthwise: true,
    x: [2, 12, 12, 16],
    kernel: 5,
    cout: 1,
    stride: 1,
    dilation: 2,
    bias: false,
  },
];

function seeded(rng: Rng, shape: readonly number[]): tf.Tensor {
  const size = shape.reduce((a, d) => a * d, 1);
  const v = new Float32Array(size);
  for (let i = 0; i < size; i++) v[i] = rng.uniform(-1, 1);
  return tf.tensor(v, [...shape]);
}

/** y = conv(x, w) (+ b) and the gradients of sum(y * r) for x, w: [y, dx, dw] flattened. */
export function runFingerprintCase(c: FingerprintCase): Float32Array {
  const rng = Rng.fromSeed(`kernel-fingerprint ${c.name}`);
  return tf.tidy(() => {
    const cin = c.x[3];
    const x = seeded(rng, c.x) as tf.Tensor4D;
    const w = seeded(rng, [c.kernel, c.kernel, cin, c.cout]) as tf.Tensor4D;
    const b = c.bias ? (seeded(rng, [c.cout]) as tf.Tensor1D) : undefined;
    const pad = Math.floor((c.dilation * (c.kernel - 1)) / 2);
    const conv = (xs: tf.Tensor4D, ws: tf.Tensor4D): tf.Tensor4D =>
      c.depthwise
        ? tf.depthwiseConv2d(xs, ws, c.stride, pad, 'NHWC', c.dilation)
        : b
          ? tf.fused.conv2d({ x: xs, filter: ws, bias: b, strides: c.stride, pad })
          : tf.conv2d(xs, ws, c.stride, pad, 'NHWC', c.dilation);
    const y = conv(x, w);
    const r = seeded(rng, y.shape);
    const [dx, dw] = tf.grads((xs: tf.Tensor, ws: tf.Tensor) =>
      tf.sum(tf.mul(conv(xs as tf.Tensor4D, ws as tf.Tensor4D), r)),
    )([x, w]);
    const parts = [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
    const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  });
}

/** Every case's outputs and a short hash of all their bits. */
export function kernelFingerprint(): { outputs: Float32Array[]; hash: string } {
  const outputs = FINGERPRINT_CASES.map(runFingerprintCase);
  const h = createHash('sha256');
  for (const o of outputs) h.update(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
  return { outputs, hash: h.digest('hex').slice(0, 16) };
}
