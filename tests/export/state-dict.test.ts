/**
 * The weight-name mapping: model.py's state_dict keys are robust-nas's variable names, every
 * variable of a built network is mapped (with each BatchNorm's num_batches_tracked added), the
 * layouts are PyTorch's, and weights of another network are refused naming the first mismatch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { resolveGenotype } from '../../src/cli/genotype-resolve.js';
import { buildModel } from '../../src/evaluator/architecture.js';
import { initBackend } from '../../src/evaluator/backend.js';
import { complexityOf } from '../../src/evaluator/complexity.js';
import { encodeWeights } from '../../src/evaluator/weights.js';
import {
  type ExportNetwork,
  networkVariables,
  permute,
  readWeightsFile,
  tensorKind,
  toStateDict,
} from '../../src/export/state-dict.js';

beforeAll(async () => {
  await initBackend();
});

const EVERY_OP =
  "Genotype(normal=[('sep_conv_5x5', 0), ('dil_conv_5x5', 1), ('conv_7x1_1x7', 0), ('avg_pool_3x3', 2), " +
  "('none', 1), ('sep_conv_7x7', 3), ('skip_connect', 0), ('dil_conv_3x3', 4)], normal_concat=[2, 3, 4, 5], " +
  "reduce=[('skip_connect', 0), ('conv_7x1_1x7', 1), ('dil_conv_5x5', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 1), " +
  "('avg_pool_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_7x7', 0)], reduce_concat=[2, 3, 4, 5])";

const NETWORKS: readonly (readonly [string, ExportNetwork])[] = [
  [
    'DARTS_V2, 4 channels, 5 cells, auxiliary head',
    {
      spec: { genotype: resolveGenotype('DARTS_V2') },
      options: { channels: 4, layers: 5, numClasses: 10, inputShape: [32, 32, 3], auxiliary: true },
    },
  ],
  [
    'every operation, odd input',
    {
      spec: { genotype: resolveGenotype(EVERY_OP) },
      options: { channels: 2, layers: 4, numClasses: 3, inputShape: [13, 11, 1] },
    },
  ],
  [
    'resnet18 at width 1/8',
    {
      spec: { arch: 'resnet18', width: 0.125 },
      options: { channels: 1, layers: 1, numClasses: 10, inputShape: [16, 16, 3] },
    },
  ],
  [
    'vgg16 at width 1/16',
    {
      spec: { arch: 'vgg16', width: 0.0625 },
      options: { channels: 1, layers: 1, numClasses: 10, inputShape: [8, 8, 3] },
    },
  ],
  [
    'densenet121 at width 1/8',
    {
      spec: { arch: 'densenet121', width: 0.125 },
      options: { channels: 1, layers: 1, numClasses: 10, inputShape: [8, 8, 3] },
    },
  ],
];

async function builtWeights(network: ExportNetwork, seed = 3) {
  const model = buildModel(network.spec, { ...network.options, seed });
  try {
    const bytes = await encodeWeights(model);
    return { bytes, names: model.variableNames!, params: model.params };
  } finally {
    model.dispose();
  }
}

describe('the PyTorch state_dict of a network', () => {
  for (const [label, network] of NETWORKS) {
    it(`${label}: every variable maps to a key of the right PyTorch shape`, async () => {
      const before = tf.memory().numTensors;
      const { bytes, names, params } = await builtWeights(network);
      expect(tf.memory().numTensors).toBe(before);
      const { tensors } = readWeightsFile(bytes, 'test');
      const recorded = networkVariables(network);
      // The recording store sees exactly the built network's variables, in the same order.
      expect(recorded.variables.map((v) => v.name)).toEqual([...names.trainable, ...names.state]);
      expect(recorded.variables.map((v) => v.shape)).toEqual(tensors.map((t) => t.shape));
      expect(recorded.params).toBe(params);
      expect(recorded.params).toBe(complexityOf(network.spec, network.options).params);

      const state = toStateDict(network, tensors, 'test');
      const byName = new Map(state.map((t) => [t.name, t]));
      expect(byName.size).toBe(state.length);
      for (const t of tensors) {
        const out = byName.get(t.name);
        expect(out, t.name).toBeDefined();
        const kind = tensorKind(network, t.name, t.shape);
        const s = t.shape;
        const want =
          kind === 'conv'
            ? [s[3], s[2], s[0], s[1]]
            : kind === 'depthwise'
              ? [s[2], 1, s[0], s[1]]
              : kind === 'linear'
                ? [s[1], s[0]]
                : [...s];
        expect(out!.shape, t.name).toEqual(want);
      }
      // Every BatchNorm has PyTorch's five entries; nothing else is added.
      const norms = tensors.filter((t) => t.name.endsWith('.running_var'));
      expect(norms.length).toBeGreaterThan(0);
      for (const n of norms) {
        const prefix = n.name.slice(0, -'.running_var'.length);
        for (const key of ['weight', 'bias', 'running_mean', 'running_var']) {
          expect(byName.has(`${prefix}.${key}`), `${prefix}.${key}`).toBe(true);
        }
        const counter = byName.get(`${prefix}.num_batches_tracked`);
        expect(counter?.dtype).toBe('I64');
        expect(counter?.shape).toEqual([]);
      }
      expect(state.length).toBe(tensors.length + norms.length);
      // Trainable parameters in the state_dict (auxiliary head excluded) are robust-nas's count.
      const counted = tensors
        .filter((t) => t.trainable && !t.name.startsWith('auxiliary_head.'))
        .reduce((a, t) => a + t.data.length, 0);
      expect(counted).toBe(params);
    });
  }

  it('depthwise filters are exactly the first convs of sep_conv (1, 5) and dil_conv (1)', () => {
    const network = NETWORKS[1]![1];
    const kinds = networkVariables(network)
      .variables.filter((v) => v.shape.length === 4)
      .map((v) => [v.name, tensorKind(network, v.name, v.shape)] as const);
    const depthwise = kinds.filter(([, k]) => k === 'depthwise').map(([n]) => n);
    // Cell 0 is normal: edges 0 (sep 5x5), 1 (dil 5x5), 5 (sep 7x7), 7 (dil 3x3).
    expect(depthwise.filter((n) => n.startsWith('cells.0.'))).toEqual([
      'cells.0._ops.0.1.weight',
      'cells.0._ops.0.5.weight',
      'cells.0._ops.1.1.weight',
      'cells.0._ops.5.1.weight',
      'cells.0._ops.5.5.weight',
      'cells.0._ops.7.1.weight',
    ]);
    // conv_7x1_1x7's '1' is a dense conv.
    expect(kinds.find(([n]) => n === 'cells.0._ops.2.1.weight')?.[1]).toBe('conv');
    for (const [name, kind] of kinds) {
      if (kind === 'depthwise') {
        const v = networkVariables(network).variables.find((x) => x.name === name)!;
        expect(v.shape[3]).toBe(1);
      }
    }
  });

  it('permutes values into PyTorch layouts', () => {
    // A conv filter [kh=2, kw=3, in=4, out=5] -> [out, in, kh, kw].
    const shape = [2, 3, 4, 5];
    const data = Float32Array.from({ length: 120 }, (_, i) => i);
    const { data: out, shape: outShape } = permute(data, shape, [3, 2, 0, 1]);
    expect(outShape).toEqual([5, 4, 2, 3]);
    for (const [y, x, i, o] of [
      [0, 0, 0, 0],
      [1, 2, 3, 4],
      [1, 0, 2, 3],
      [0, 1, 3, 0],
    ] as const) {
      const src = ((y * 3 + x) * 4 + i) * 5 + o;
      const dst = ((o * 4 + i) * 2 + y) * 3 + x;
      expect(out[dst]).toBe(src);
    }
    const linear = permute(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]);
    expect(linear.shape).toEqual([3, 2]);
    expect([...linear.data]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('refuses weights of another network, naming the first mismatch', async () => {
    const [, darts] = NETWORKS[0]!;
    const { bytes } = await builtWeights(darts);
    const { tensors } = readWeightsFile(bytes, 'w.weights');
    const wider: ExportNetwork = { ...darts, options: { ...darts.options, channels: 6 } };
    expect(() => toStateDict(wider, tensors, 'w.weights')).toThrow(
      /w\.weights: tensor 0 is 'stem\.0\.weight' \[3x3x3x12\], this network expects 'stem\.0\.weight' \[3x3x3x18\]/,
    );
    const other: ExportNetwork = { ...darts, spec: { arch: 'resnet18', width: 0.125 } };
    expect(() => toStateDict(other, tensors, 'w.weights')).toThrow(InputError);
    expect(() => toStateDict(other, tensors, 'w.weights')).toThrow(
      /holds \d+ tensors, this network has \d+/,
    );
  });
});
