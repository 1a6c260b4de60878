/**
 * robust-nas weights -> a PyTorch state_dict (as safetensors tensors). robust-nas keeps NHWC
 * tensors in TensorFlow's layouts; model.py (see model-py.ts) names its modules so that every
 * state_dict key is the robust-nas variable name, and this module converts the layouts:
 * - dense conv filter [kh, kw, in, out] -> nn.Conv2d weight [out, in, kh, kw];
 * - depthwise filter [k, k, C, 1] (sep_conv and dil_conv) -> nn.Conv2d(groups=C) weight [C, 1, k, k];
 * - linear weight [in, out] -> nn.Linear weight [out, in];
 * - vectors (biases, BatchNorm weight/bias/running_mean/running_var) as they are;
 * - and for every BatchNorm a `num_batches_tracked` (int64 scalar, 0: robust-nas uses PyTorch's
 *   fixed momentum 0.1 and does not count batches; PyTorch reads the counter only with momentum=None).
 */
import { InputError } from '../core/errors.js';
import type { ArchitectureSpec } from '../evaluator/architecture.js';
import { buildNetworkBody } from '../evaluator/architecture.js';
import { ParameterStore } from '../evaluator/layers/parameter-store.js';
import type { BuildOptions } from '../evaluator/model.js';
import { decodeWeightsHeader } from '../evaluator/weights.js';
import type { SafetensorsTensor } from './safetensors.js';

/** The network an export describes: the architecture and the build options robust-nas used. */
export interface ExportNetwork {
  readonly spec: ArchitectureSpec;
  readonly options: Omit<BuildOptions, 'seed'>;
}

/** One variable of a robust-nas network, as its ParameterStore names it (NHWC layouts). */
export interface NetworkVariable {
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

/** A ParameterStore that builds no tensor and records every variable's full name and shape. */
class RecordingStore extends ParameterStore {
  readonly variables: NetworkVariable[] = [];
  private readonly prefix: string[] = [];

  constructor() {
    super(0, true);
  }

  override scoped<T>(name: string | number, fn: () => T): T {
    this.prefix.push(String(name));
    try {
      return super.scoped(name, fn);
    } finally {
      this.prefix.pop();
    }
  }

  override uniform(name: string, shape: number[], bound: number) {
    this.record(name, shape, true);
    return super.uniform(name, shape, bound);
  }

  override filled(name: string, shape: number[], value: number, trainable: boolean) {
    this.record(name, shape, trainable);
    return super.filled(name, shape, value, trainable);
  }

  private record(name: string, shape: number[], trainable: boolean): void {
    this.variables.push({ name: [...this.prefix, name].join('.'), shape: [...shape], trainable });
  }
}

/**
 * Every variable robust-nas builds for this network (trainable first, then state, each in build
 * order: the order of a weights file), and its parameter count (auxiliary head excluded).
 */
export function networkVariables(network: ExportNetwork): {
  variables: NetworkVariable[];
  params: number;
} {
  const store = new RecordingStore();
  buildNetworkBody(network.spec, { ...network.options, seed: 0 }, store);
  const variables = [
    ...store.variables.filter((v) => v.trainable),
    ...store.variables.filter((v) => !v.trainable),
  ];
  return { variables, params: store.params };
}

export type TensorKind = 'vector' | 'linear' | 'conv' | 'depthwise';

const DEPTHWISE_POSITIONS: Readonly<Record<string, readonly string[]>> = {
  sep_conv_3x3: ['1', '5'],
  sep_conv_5x5: ['1', '5'],
  sep_conv_7x7: ['1', '5'],
  dil_conv_3x3: ['1'],
  dil_conv_5x5: ['1'],
};

/** Which layout a robust-nas variable has (depthwise filters are the sep/dil convs' first convs). */
export function tensorKind(
  network: ExportNetwork,
  name: string,
  shape: readonly number[],
): TensorKind {
  if (shape.length <= 1) return 'vector';
  if (shape.length === 2) return 'linear';
  if (shape.length !== 4) throw new Error(`unexpected rank-${shape.length} variable '${name}'`);
  const spec = network.spec;
  if (!('genotype' in spec)) return 'conv';
  const m = /^cells\.(\d+)\._ops\.(\d+)\.(\d+)\.weight$/.exec(name);
  if (!m) return 'conv';
  const layers = network.options.layers;
  const cell = Number(m[1]);
  const reduction = cell === Math.floor(layers / 3) || cell === Math.floor((2 * layers) / 3);
  const edges = reduction ? spec.genotype.reduce : spec.genotype.normal;
  const edge = edges[Number(m[2])];
  if (!edge) throw new Error(`variable '${name}' names an edge the genotype does not have`);
  return DEPTHWISE_POSITIONS[edge[0]]?.includes(m[3] as string) ? 'depthwise' : 'conv';
}

const PERMUTATIONS: Readonly<Record<TensorKind, readonly number[] | undefined>> = {
  vector: undefined,
  linear: [1, 0],
  conv: [3, 2, 0, 1],
  depthwise: [2, 3, 0, 1],
};

/** Transposes row-major `data` of `shape`: output axis d is input axis perm[d]. */
export function permute(
  data: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p] as number);
  const inStrides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--)
    inStrides[d] = (inStrides[d + 1] as number) * (shape[d + 1] as number);
  const strideOfOut = perm.map((p) => inStrides[p] as number);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += (index[d] as number) * (strideOfOut[d] as number);
    out[o] = data[at] as number;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = (index[d] as number) + 1;
      if ((index[d] as number) < (outShape[d] as number)) break;
      index[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** The PyTorch shape of a robust-nas variable. */
export function torchShape(network: ExportNetwork, v: NetworkVariable): number[] {
  const perm = PERMUTATIONS[tensorKind(network, v.name, v.shape)];
  return perm ? perm.map((p) => v.shape[p] as number) : [...v.shape];
}

/** One tensor of a robust-nas weights file. */
export interface WeightsTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
  readonly data: Float32Array;
}

/** Reads a robust-nas weights file (see src/evaluator/weights.ts): its tensors and metadata. */
export function readWeightsFile(
  bytes: Buffer,
  source: string,
): { tensors: WeightsTensor[]; meta: unknown } {
  const { header, base } = decodeWeightsHeader(bytes, source);
  const tensors = header.tensors.map((t) => {
    const count = t.shape.reduce((a, b) => a * b, 1);
    const start = base + t.offset;
    if (start + 4 * count > bytes.length) {
      throw new InputError(`${source}: truncated data at tensor '${t.name}'`);
    }
    const data = new Float32Array(count);
    for (let k = 0; k < count; k++) data[k] = bytes.readFloatLE(start + 4 * k);
    return { name: t.name, shape: t.shape, trainable: t.group === 'trainable', data };
  });
  return { tensors, meta: header.meta };
}

/**
 * The state_dict of `network` from robust-nas weights: checks that the weights are exactly this
 * network's variables (names, shapes, groups; an InputError names the first mismatch), converts the
 * layouts, and adds each BatchNorm's num_batches_tracked.
 */
export function toStateDict(
  network: ExportNetwork,
  tensors: readonly WeightsTensor[],
  source: string,
): SafetensorsTensor[] {
  const { variables } = networkVariables(network);
  if (tensors.length !== variables.length) {
    throw new InputError(
      `${source}: holds ${tensors.length} tensors, this network has ${variables.length} (another architecture or network size?)`,
    );
  }
  const out: SafetensorsTensor[] = [];
  variables.forEach((v, i) => {
    const t = tensors[i] as WeightsTensor;
    if (
      t.name !== v.name ||
      t.trainable !== v.trainable ||
      t.shape.join('x') !== v.shape.join('x')
    ) {
      throw new InputError(
        `${source}: tensor ${i} is '${t.name}' [${t.shape.join('x')}], this network expects '${v.name}' [${v.shape.join('x')}]`,
      );
    }
    const perm = PERMUTATIONS[tensorKind(network, v.name, v.shape)];
    const converted = perm ? permute(t.data, t.shape, perm) : { data: t.data, shape: [...t.shape] };
    out.push({ name: v.name, dtype: 'F32', shape: converted.shape, data: converted.data });
  });
  for (const v of variables) {
    if (v.name.endsWith('.running_var')) {
      const prefix = v.name.slice(0, -'.running_var'.length);
      out.push({
        name: `${prefix}.num_batches_tracked`,
        dtype: 'I64',
        shape: [],
        data: new BigInt64Array([0n]),
      });
    }
  }
  return out;
}
