/**
 * Our wasm training kernels against the cpu backend, numerically, on seeded random shapes:
 * strides 1 and 2, dilations 1 and 2, kernels 1, 3, 5, 7, 7x1 and 1x7, same/valid/explicit
 * padding, batch 1 and more, channels 1 and more. The cpu reference never uses dilation in a
 * gradient (its backprop kernels ignore it): it differentiates the same convolution written with
 * an explicitly zero-dilated filter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/evaluator/backend.js';
import { WASM_TRAINING_KERNELS } from '../../src/evaluator/wasm-kernels/index.js';
import { Rng } from '../../src/core/rng.js';

type Pad = 'same' | 'valid' | number;

interface ConvCase {
  readonly depthwise: boolean;
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  /** Output channels (regular) or channel multiplier (depthwise). */
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly stride: number;
  readonly dilation: number;
  readonly pad: Pad;
}

interface Grads {
  dx: Float32Array;
  dw: Float32Array;
}

const KERNELS: ReadonlyArray<[number, number]> = [
  [1, 1],
  [3, 3],
  [5, 5],
  [7, 7],
  [7, 1],
  [1, 7],
];
const CHANNELS = [1, 3, 4, 5, 8, 13, 16];

function randomArray(rng: Rng, size: number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function label(c: ConvCase): string {
  return `${c.depthwise ? 'depthwise' : 'conv'} n${c.n} ${c.h}x${c.w}x${c.cin}->${c.cout} k${c.kh}x${c.kw} s${c.stride} d${c.dilation} pad=${c.pad}`;
}

/** A seeded list covering every required dimension at least once, plus random mixes. */
function makeCases(): ConvCase[] {
  const rng = Rng.fromSeed('wasm-gradients');
  const cases: ConvCase[] = [];
  const pads: Pad[] = ['same', 'valid', 1];
  let i = 0;
  for (const depthwise of [true, false]) {
    for (const [kh, kw] of KERNELS) {
      for (const stride of [1, 2]) {
        for (const dilation of stride === 1 ? [1, 2] : [1]) {
          const pad = pads[i++ % pads.length]!;
          const effH = (kh - 1) * dilation + 1;
          const effW = (kw - 1) * dilation + 1;
          const cin = rng.choice(CHANNELS);
          cases.push({
            depthwise,
            n: rng.intBetween(1, 3),
            h: Math.max(effH, rng.intBetween(4, 11)),
            w: Math.max(effW, rng.intBetween(4, 11)),
            cin,
            cout: depthwise ? rng.choice([1, 1, 2]) : rng.choice(CHANNELS),
            kh,
            kw,
            stride,
            dilation,
            pad: pad === 1 && (effH > 5 || effW > 5) ? 'same' : pad,
          });
        }
      }
    }
  }
  // 1x1 stride-1 convolutions (the register-blocked filter-gradient kernel): output channels
  // below, at and above multiples of 16 and 4, odd input channel counts, more than 512 pixels.
  for (const [n, h, w, cin, cout] of [
    [2, 5, 7, 19, 37],
    [1, 4, 4, 16, 16],
    [3, 3, 3, 2, 48],
    [2, 17, 19, 7, 3],
    [1, 2, 2, 1, 20],
  ] as const)
    cases.push({
      depthwise: false,
      n,
      h,
      w,
      cin,
      cout,
      kh: 1,
      kw: 1,
      stride: 1,
      dilation: 1,
      pad: 'valid',
    });
  // Depthwise 3x3 (the filter-gradient kernel's 3x3 path: interior rows and columns, border
  // taps, channels beyond a multiple of 4), dilated and not, stride 1 and 2, odd sizes.
  for (const [n, h, w, cin, stride, dilation, pad] of [
    [2, 9, 11, 6, 1, 1, 'same'],
    [3, 7, 7, 18, 1, 2, 2],
    [1, 12, 9, 16, 2, 1, 'same'],
    [2, 6, 13, 4, 1, 1, 'valid'],
    [1, 5, 5, 3, 1, 2, 'same'],
    [2, 11, 11, 20, 2, 1, 1],
  ] as const)
    cases.push({
      depthwise: true,
      n,
      h,
      w,
      cin,
      cout: 1,
      kh: 3,
      kw: 3,
      stride,
      dilation,
      pad,
    });
  // The shapes DARTS trains most: batch > 1, 16+ channels, 3x3/5x5, stride 1 and 2.
  cases.push(
    {
      depthwise: true,
      n: 4,
      h: 16,
      w: 16,
      cin: 16,
      cout: 1,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 1,
      pad: 'same',
    },
    {
      depthwise: true,
      n: 2,
      h: 16,
      w: 16,
      cin: 32,
      cout: 1,
      kh: 5,
      kw: 5,
      stride: 2,
      dilation: 1,
      pad: 'same',
    },
    {
      depthwise: true,
      n: 2,
      h: 16,
      w: 16,
      cin: 24,
      cout: 1,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 2,
      pad: 2,
    },
    {
      depthwise: false,
      n: 4,
      h: 16,
      w: 16,
      cin: 16,
      cout: 32,
      kh: 1,
      kw: 1,
      stride: 1,
      dilation: 1,
      pad: 'valid',
    },
    {
      depthwise: false,
      n: 2,
      h: 16,
      w: 16,
      cin: 32,
      cout: 16,
      kh: 1,
      kw: 1,
      stride: 2,
      dilation: 1,
      pad: 'valid',
    },
    {
      depthwise: false,
      n: 2,
      h: 12,
      w: 12,
      cin: 3,
      cout: 48,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 1,
      pad: 'same',
    },
  );
  return cases;
}

/** Zero-dilates a [KH,KW,A,B] filter held in a flat array. */
function dilateFilter(
  f: Float32Array,
  kh: number,
  kw: number,
  a: number,
  b: number,
  d: number,
): Float32Array {
  const eh = (kh - 1) * d + 1;
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(eh * ew * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      out.set(
        f.subarray((i * kw + j) * a * b, (i * kw + j + 1) * a * b),
        (i * d * ew + j * d) * a * b,
      );
  return out;
}

/** Picks the taps of a dilated filter gradient back out. */
function undilate(
  g: Float32Array,
  kh: number,
  kw: number,
  a: number,
  b: number,
  d: number,
): Float32Array {
  const ew = (kw - 1) * d + 1;
  const out = new Float32Array(kh * kw * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      out.set(
        g.subarray((i * d * ew + j * d) * a * b, (i * d * ew + j * d + 1) * a * b),
        (i * kw + j) * a * b,
      );
  return out;
}

/** Gradients of sum(conv(x, f) * dy) w.r.t. x and f on the current backend. */
function convGrads(
  c: ConvCase,
  x: Float32Array,
  f: Float32Array,
  filterShape: [number, number, number, number],
  dyData: (outShape: number[]) => Float32Array,
  dilation: number,
): Grads {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [c.n, c.h, c.w, c.cin]);
    const ft = tf.tensor4d(f, filterShape);
    const forward = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      c.depthwise
        ? tf.depthwiseConv2d(a, b, c.stride, c.pad, 'NHWC', dilation)
        : tf.conv2d(a, b, c.stride, c.pad, 'NHWC', dilation);
    const outShape = forward(xt, ft).shape;
    const dy = tf.tensor(dyData(outShape), outShape);
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(forward(a as tf.Tensor4D, b as tf.Tensor4D), dy)),
    )([xt, ft]);
    return { dx: gx!.dataSync() as Float32Array, dw: gf!.dataSync() as Float32Array };
  });
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

describe('wasm convolution gradients match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('registers our kernels on the wasm backend', () => {
    for (const config of WASM_TRAINING_KERNELS)
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
  });

  const cases = makeCases();
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (_name, c) => {
    const rng = Rng.fromSeed(label(c));
    const filterShape: [number, number, number, number] = [c.kh, c.kw, c.cin, c.cout];
    const x = randomArray(rng, c.n * c.h * c.w * c.cin);
    const f = randomArray(rng, c.kh * c.kw * c.cin * c.cout);
    let dyValues: Float32Array | undefined;
    const dyData = (shape: number[]): Float32Array => {
      dyValues ??= randomArray(
        rng,
        shape.reduce((p, d) => p * d, 1),
      );
      return dyValues;
    };

    await tf.setBackend('cpu');
    const fd = dilateFilter(f, c.kh, c.kw, c.cin, c.cout, c.dilation);
    const eff: [number, number, number, number] = [
      (c.kh - 1) * c.dilation + 1,
      (c.kw - 1) * c.dilation + 1,
      c.cin,
      c.cout,
    ];
    const ref = convGrads(c, x, fd, eff, dyData, 1);
    ref.dw = undilate(ref.dw, c.kh, c.kw, c.cin, c.cout, c.dilation);

    await tf.setBackend('wasm');
    const got = convGrads(c, x, f, filterShape, dyData, c.dilation);

    expect(relError(got.dx, ref.dx)).toBeLessThan(1e-4);
    expect(relError(got.dw, ref.dw)).toBeLessThan(1e-4);
  });

  it('trains dilated depthwise convolutions on cpu too (zero-dilated fallback)', async () => {
    const c: ConvCase = {
      depthwise: true,
      n: 2,
      h: 9,
      w: 9,
      cin: 5,
      cout: 1,
      kh: 3,
      kw: 3,
      stride: 1,
      dilation: 2,
      pad: 'same',
    };
    const rng = Rng.fromSeed('cpu-dilated');
    const x = randomArray(rng, c.n * c.h * c.w * c.cin);
    const f = randomArray(rng, c.kh * c.kw * c.cin);
    const dy = randomArray(rng, c.n * c.h * c.w * c.cin);
    await tf.setBackend('cpu');
    const viaOverride = convGrads(c, x, f, [3, 3, 5, 1], () => dy, 2);
    const ref = convGrads(c, x, dilateFilter(f, 3, 3, 5, 1, 2), [5, 5, 5, 1], () => dy, 1);
    await tf.setBackend('wasm');
    expect(relError(viaOverride.dx, ref.dx)).toBeLessThan(1e-5);
    expect(relError(viaOverride.dw, undilate(ref.dw, 3, 3, 5, 1, 2))).toBeLessThan(1e-5);
  });

  it('leaks no tensors or wasm buffers across repeated kernel calls', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.randomUniform([2, 8, 8, 6], -1, 1, 'float32', 1) as tf.Tensor4D;
    const dwFilter = tf.randomUniform([3, 3, 6, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
    const convFilter = tf.randomUniform([3, 3, 6, 7], -1, 1, 'float32', 3) as tf.Tensor4D;
    const step = (): void => {
      tf.tidy(() => {
        const [a, b] = tf.grads((xi: tf.Tensor, fi: tf.Tensor) =>
          tf.sum(tf.depthwiseConv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, 1, 'same', 'NHWC', 2)),
        )([x, dwFilter]);
        const [c, d] = tf.grads((xi: tf.Tensor, fi: tf.Tensor) =>
          tf.sum(tf.conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, 2, 'same')),
        )([x, convFilter]);
        return tf.addN([tf.sum(a!), tf.sum(b!), tf.sum(c!), tf.sum(d!)]).dataSync();
      });
    };
    step();
    const tensors = tf.memory().numTensors;
    const dataIds = backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, dwFilter, convFilter]);
  });
});

/** Runs `f` on cpu and on wasm with the same inputs and returns both results, flattened. */
async function onBoth(
  inputs: ReadonlyArray<{ data: Float32Array; shape: number[] }>,
  f: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const runOn = async (name: string): Promise<Float32Array[]> => {
    await tf.setBackend(name);
    return tf.tidy(() => {
      const out = f(...inputs.map((i) => tf.tensor(i.data, i.shape)));
      return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
    });
  };
  const cpu = await runOn('cpu');
  const wasm = await runOn('wasm');
  return { cpu, wasm };
}

describe('other wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });
  const rng = Rng.fromSeed('other-kernels');
  const input = (shape: number[]): { data: Float32Array; shape: number[] } => ({
    data: randomArray(
      rng,
      shape.reduce((p, d) => p * d, 1),
    ),
    shape,
  });

  it.each([
    [3, 1, 'same', [2, 9, 9, 6]],
    [3, 2, 'same', [3, 8, 8, 16]],
    [3, 2, 'valid', [2, 9, 7, 5]],
    [2, 2, 'valid', [1, 6, 6, 3]],
  ] as const)('max-pool gradient k%i s%i %s %j', async (k, s, pad, shape) => {
    const x = input([...shape]);
    const r = await onBoth([x], (t) => {
      const y = tf.maxPool(t as tf.Tensor4D, k, s, pad);
      const w = tf.randomUniform(y.shape, -1, 1, 'float32', 5);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), w)))(
        t!,
      );
    });
    expect(relError(r.wasm[0]!, r.cpu[0]!)).toBeLessThan(1e-6);
  });

  // Ties (ReLU zeros, values rounded to a coarse grid): the gradient must go to the first maximum.
  it.each([
    [3, 2, 'same', [2, 9, 9, 6]],
    [3, 1, 'same', [1, 7, 8, 9]],
    [2, 2, 'valid', [2, 6, 6, 4]],
    [3, 2, 'same', [1, 8, 8, 32]],
  ] as const)('max-pool gradient with ties k%i s%i %s %j', async (k, s, pad, shape) => {
    const x = input([...shape]);
    const r = await onBoth([x], (t) => {
      const tied = tf.relu(tf.round(tf.mul(t!, 2)));
      const y = tf.maxPool(tied as tf.Tensor4D, k, s, pad);
      const w = tf.randomUniform(y.shape, -1, 1, 'float32', 6);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), w)))(
        tied,
      );
    });
    expect(relError(r.wasm[0]!, r.cpu[0]!)).toBeLessThan(1e-6);
  });

  it('relu gradient', async () => {
    const x = input([2, 5, 5, 7]);
    const dy = input([2, 5, 5, 7]);
    const r = await onBoth([x, dy], (a, g) =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), g!)))(a!),
    );
    expect(relError(r.wasm[0]!, r.cpu[0]!)).toBe(0);
  });

  it.each([
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[0], false],
    [[1, 0], true],
    [[1, 2], false],
    [[3], false],
    [[0, 1, 2, 3], false],
  ] as const)('sum and mean over axes %j keepDims=%s', async (axes, keepDims) => {
    const x = input([3, 17, 9, 13]);
    const r = await onBoth([x], (t) => [
      tf.sum(t!, [...axes], keepDims),
      tf.mean(t!, [...axes], keepDims),
    ]);
    expect(relError(r.wasm[0]!, r.cpu[0]!)).toBeLessThan(1e-5);
    expect(relError(r.wasm[1]!, r.cpu[1]!)).toBeLessThan(1e-5);
  });

  it.each([3, 1, -1])('concat and split on axis %i', async (axis) => {
    const parts = [input([2, 4, 5, 3]), input([2, 4, 5, 8]), input([2, 4, 5, 1])];
    const sameShape = [input([2, 4, 5, 3]), input([2, 4, 5, 3])];
    const sizes = axis === 1 ? null : [3, 8, 1];
    const r = await onBoth(sizes ? parts : sameShape, (...ts) => {
      const joined = tf.concat(ts, axis);
      return [joined, ...tf.split(joined, sizes ?? 2, axis)];
    });
    expect(r.wasm.length).toBe(r.cpu.length);
    r.wasm.forEach((w, i) => expect(relError(w, r.cpu[i]!)).toBe(0));
  });
});
