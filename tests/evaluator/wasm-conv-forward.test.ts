/**
 * Our wasm forward convolution kernels (conv-forward.ts: the 1x1 matrix product with and without
 * bias, the depthwise kernel) against the cpu backend on seeded random shapes: output channels
 * below, at and above multiples of 4 and 8, pixel counts not a multiple of 4, depthwise 3x3 and
 * 5x5, dilated and not, stride 1 and 2, odd sizes, same/valid/explicit padding. Also checks that
 * shapes they do not handle still reach tfjs-backend-wasm's kernels and give the same results.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Conv2D, DepthwiseConv2dNative, FusedConv2D } from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/evaluator/backend.js';
import { OUR_CONV_FORWARD_KERNELS } from '../../src/evaluator/wasm-kernels/conv-forward.js';
import { Rng } from '../../src/core/rng.js';

function randomArray(rng: Rng, size: number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function relError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / Math.max(1, maxRef);
}

/** f on cpu, then on wasm, with the same inputs; the results flattened. */
async function onBoth(
  inputs: ReadonlyArray<{ data: Float32Array; shape: number[] }>,
  f: (...ts: tf.Tensor[]) => tf.Tensor,
): Promise<{ cpu: Float32Array; wasm: Float32Array }> {
  const runOn = async (name: string): Promise<Float32Array> => {
    await tf.setBackend(name);
    return tf.tidy(
      () => f(...inputs.map((i) => tf.tensor(i.data, i.shape))).dataSync() as Float32Array,
    );
  };
  const cpu = await runOn('cpu');
  const wasm = await runOn('wasm');
  return { cpu, wasm };
}

type Pad =
  'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

describe('wasm forward convolution kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('replaces Conv2D, FusedConv2D and DepthwiseConv2dNative on wasm', () => {
    for (const name of [Conv2D, FusedConv2D, DepthwiseConv2dNative]) {
      const k = tf.getKernel(name, 'wasm');
      expect(k && OUR_CONV_FORWARD_KERNELS.has(k.kernelFunc)).toBe(true);
    }
  });

  const rng = Rng.fromSeed('wasm-conv-forward');
  const input = (shape: number[]) => ({
    data: randomArray(
      rng,
      shape.reduce((p, d) => p * d, 1),
    ),
    shape,
  });

  // [n, h, w, cin, cout]: rows (n*h*w) 1, 3, 5, 35, 64*...; cout 1, 3, 4, 7, 8, 12, 16, 20, 64.
  it.each([
    [1, 1, 1, 1, 1],
    [1, 1, 3, 5, 3],
    [1, 5, 1, 2, 4],
    [1, 5, 7, 9, 7],
    [2, 3, 3, 16, 8],
    [3, 4, 5, 13, 12],
    [2, 8, 8, 16, 16],
    [1, 6, 6, 48, 20],
    [2, 4, 4, 64, 64],
    [1, 3, 3, 256, 64],
  ] as const)(
    '1x1 convolution n%i %ix%ix%i -> %i, with and without bias',
    async (n, h, w, ci, co) => {
      const x = input([n, h, w, ci]);
      const f = input([1, 1, ci, co]);
      const b = input([co]);
      const plain = await onBoth([x, f], (a, k) =>
        tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, 1, 'valid'),
      );
      expect(relError(plain.wasm, plain.cpu)).toBeLessThan(1e-5);
      const fused = await onBoth([x, f, b], (a, k, c) =>
        tf.fused.conv2d({
          x: a as tf.Tensor4D,
          filter: k as tf.Tensor4D,
          strides: 1,
          pad: 'valid',
          bias: c,
        }),
      );
      expect(relError(fused.wasm, fused.cpu)).toBeLessThan(1e-5);
    },
  );

  it.each([
    // [n, h, w, c, k, stride, dilation, pad]
    [2, 8, 8, 16, 3, 1, 1, 'same'],
    [1, 7, 9, 5, 3, 1, 1, 'same'],
    [3, 11, 6, 16, 3, 1, 2, 'same'],
    [
      1,
      9,
      9,
      24,
      3,
      1,
      2,
      [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ],
    ],
    [2, 13, 13, 7, 5, 1, 1, 'same'],
    [
      1,
      12,
      10,
      16,
      5,
      1,
      2,
      [
        [0, 0],
        [4, 4],
        [4, 4],
        [0, 0],
      ],
    ],
    [2, 9, 9, 32, 3, 2, 1, 'same'],
    [1, 10, 7, 6, 5, 2, 1, 'valid'],
    [
      1,
      8,
      8,
      64,
      3,
      2,
      1,
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
    ],
    [2, 5, 5, 3, 3, 1, 1, 'valid'],
    [1, 3, 3, 4, 5, 1, 1, 'same'],
    [1, 2, 6, 8, 3, 1, 2, 'same'],
  ] as const)(
    'depthwise n%i %ix%ix%i k%i stride %i dilation %i pad %j',
    async (n, h, w, c, k, stride, dilation, pad) => {
      const x = input([n, h, w, c]);
      const f = input([k, k, c, 1]);
      const r = await onBoth([x, f], (a, b) =>
        tf.depthwiseConv2d(
          a as tf.Tensor4D,
          b as tf.Tensor4D,
          stride,
          pad as unknown as Pad as 'same',
          'NHWC',
          dilation,
        ),
      );
      expect(relError(r.wasm, r.cpu)).toBeLessThan(1e-5);
    },
  );

  it('leaves other convolutions to tfjs-backend-wasm (3x3, strided 1x1, multiplier 2, relu)', async () => {
    const x = input([2, 7, 7, 6]);
    const f3 = input([3, 3, 6, 5]);
    const f1 = input([1, 1, 6, 5]);
    const fm = input([3, 3, 6, 2]);
    const b = input([5]);
    const t4 = (i: { data: Float32Array; shape: number[] }): tf.Tensor4D =>
      tf.tensor4d(i.data, i.shape as [number, number, number, number]);
    const cases: ((...ts: tf.Tensor[]) => tf.Tensor)[] = [
      (a) => tf.conv2d(a as tf.Tensor4D, t4(f3), 1, 'same'),
      (a) => tf.conv2d(a as tf.Tensor4D, t4(f1), 2, 'valid'),
      (a) => tf.depthwiseConv2d(a as tf.Tensor4D, t4(fm), 1, 'same'),
      (a) =>
        tf.fused.conv2d({
          x: a as tf.Tensor4D,
          filter: t4(f1),
          strides: 1,
          pad: 'valid',
          bias: tf.tensor(b.data, b.shape),
          activation: 'relu',
        }),
    ];
    for (const f of cases) {
      const r = await onBoth([x], f);
      expect(relError(r.wasm, r.cpu)).toBeLessThan(1e-5);
    }
  });

  it('leaks no tensors or wasm buffers', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomUniform([2, 8, 8, 16], -1, 1, 'float32', 1) as tf.Tensor4D;
    const f1 = tf.randomUniform([1, 1, 16, 12], -1, 1, 'float32', 2) as tf.Tensor4D;
    const fd = tf.randomUniform([3, 3, 16, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
    const b = tf.randomUniform([12], -1, 1, 'float32', 4);
    const step = () =>
      tf.tidy(() =>
        tf
          .addN([
            tf.sum(tf.conv2d(x, f1, 1, 'valid')),
            tf.sum(tf.fused.conv2d({ x, filter: f1, strides: 1, pad: 'valid', bias: b })),
            tf.sum(tf.depthwiseConv2d(x, fd, 1, 'same', 'NHWC', 2)),
          ])
          .dataSync(),
      );
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, f1, fd, b]);
  });
});
