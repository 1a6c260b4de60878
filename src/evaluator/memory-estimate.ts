/**
 * How big a DARTS network is and how much memory training and attacking it takes, before building
 * it: a walk over the layer shapes of NetworkCIFAR (network.ts, cell.ts, operations.ts and the
 * layers they use) that counts parameters, multiply-adds and activations, with no tensor and no
 * TensorFlow.js. The parameter and multiply-add counts equal complexity.ts's exact figures (a test
 * checks it); the memory figures are an estimate calibrated against the wasm backend (see
 * {@link MEMORY_MODEL}).
 *
 * A network too big for the backend used to be built anyway: 512 channels and 64 cells built for
 * 82 s to 4.3 GB, then the wasm backend aborted and stayed unusable until the process restarted.
 * {@link checkEvaluationMemory} and {@link checkSearchMemory} refuse such configs up front with the
 * figures; the CLI's `evaluate` and `search` and the server's POST /api/runs call them.
 */
import { InputError } from '../core/errors.js';
import type { EvalConfig } from '../core/evaluation.js';
import type { Genotype, OpName } from '../core/genotype.js';
import { SAMPLING_OPS } from '../core/sampling.js';
import type { SearchConfig } from '../core/search-config.js';
import { datasetGeometry } from './datasets/user-data.js';

/** Per-image shape [height, width, channels]. */
type Shape = readonly [number, number, number];

/** Sizes of a network: parameters, multiply-adds and activations of one image. */
export interface NetworkSize {
  /** Trainable parameters, as complexity.ts counts them (auxiliary head excluded). */
  readonly params: number;
  /** Multiply-adds of one image's forward pass, as complexity.ts counts them. */
  readonly macs: number;
  /**
   * Floats every layer outputs in one image's training forward pass (convolutions, BatchNorms,
   * ReLUs, pools, node sums, concatenations): the tensors a backward pass keeps or recomputes.
   */
  readonly activations: number;
  /** Parameters of the auxiliary head (trained when auxiliaryWeight > 0; not in `params`). */
  readonly auxiliaryParams: number;
  /** Activations of the auxiliary head per image. */
  readonly auxiliaryActivations: number;
}

export interface NetworkGeometry {
  readonly channels: number;
  readonly layers: number;
  readonly numClasses: number;
  readonly inputShape: Shape;
}

/** PyTorch's output length of a window (as layers/layer.ts's convOutLength). */
function outLength(length: number, kernel: number, stride: number, pad: number, dil = 1): number {
  const out = Math.floor((length + 2 * pad - dil * (kernel - 1) - 1) / stride) + 1;
  if (out < 1) {
    throw new RangeError(
      `input of size ${length} is too small for a ${kernel}-wide window (stride ${stride}, padding ${pad})`,
    );
  }
  return out;
}

const size = (s: Shape): number => s[0] * s[1] * s[2];

/** Running counts of a walk. */
class Counter {
  params = 0;
  macs = 0;
  activations = 0;

  conv(
    s: Shape,
    cout: number,
    k: [number, number],
    stride: [number, number],
    pad: [number, number],
  ): Shape {
    const out: Shape = [
      outLength(s[0], k[0], stride[0], pad[0]),
      outLength(s[1], k[1], stride[1], pad[1]),
      cout,
    ];
    this.params += k[0] * k[1] * s[2] * cout;
    this.macs += out[0] * out[1] * cout * k[0] * k[1] * s[2];
    this.activations += size(out);
    return out;
  }

  depthwise(s: Shape, k: number, stride: number, pad: number, dil = 1): Shape {
    const out: Shape = [
      outLength(s[0], k, stride, pad, dil),
      outLength(s[1], k, stride, pad, dil),
      s[2],
    ];
    this.params += k * k * s[2];
    this.macs += out[0] * out[1] * s[2] * k * k;
    this.activations += size(out);
    return out;
  }

  batchNorm(s: Shape): Shape {
    this.params += 2 * s[2];
    this.activations += size(s);
    return s;
  }

  /** ReLU, sum, concatenation or copy: one more tensor of this shape. */
  tensor(s: Shape): Shape {
    this.activations += size(s);
    return s;
  }

  pool(s: Shape, k: number, stride: number, pad: number): Shape {
    return this.tensor([outLength(s[0], k, stride, pad), outLength(s[1], k, stride, pad), s[2]]);
  }

  dense(inFeatures: number, outFeatures: number): void {
    this.params += inFeatures * outFeatures + outFeatures;
    this.macs += inFeatures * outFeatures;
    this.activations += outFeatures;
  }

  reluConvBn(s: Shape, cout: number): Shape {
    return this.batchNorm(this.conv(this.tensor(s), cout, [1, 1], [1, 1], [0, 0]));
  }

  factorizedReduce(s: Shape, cout: number): Shape {
    if (cout % 2 !== 0) {
      throw new RangeError(`FactorizedReduce needs an even channel count, got ${cout}`);
    }
    this.tensor(s); // ReLU
    const shifted: Shape = [s[0] - 1 + (s[0] % 2), s[1] - 1 + (s[1] % 2), s[2]];
    this.tensor(shifted);
    const a = this.conv(s, cout / 2, [1, 1], [2, 2], [0, 0]);
    this.conv(shifted, cout / 2, [1, 1], [2, 2], [0, 0]);
    return this.batchNorm(this.tensor([a[0], a[1], cout]));
  }

  sepConv(s: Shape, k: number, stride: number, pad: number): Shape {
    const c = s[2];
    let x = this.depthwise(this.tensor(s), k, stride, pad);
    x = this.batchNorm(this.conv(x, c, [1, 1], [1, 1], [0, 0]));
    x = this.depthwise(this.tensor(x), k, 1, pad);
    return this.batchNorm(this.conv(x, c, [1, 1], [1, 1], [0, 0]));
  }

  dilConv(s: Shape, k: number, stride: number, pad: number): Shape {
    const x = this.depthwise(this.tensor(s), k, stride, pad, 2);
    return this.batchNorm(this.conv(x, s[2], [1, 1], [1, 1], [0, 0]));
  }

  /** One edge of a cell (operations.ts's OPS). */
  op(name: OpName, s: Shape, stride: number): Shape {
    switch (name) {
      case 'none':
        return this.tensor([Math.ceil(s[0] / stride), Math.ceil(s[1] / stride), s[2]]);
      case 'avg_pool_3x3':
      case 'max_pool_3x3':
        return this.pool(s, 3, stride, 1);
      case 'skip_connect':
        return stride === 1 ? s : this.factorizedReduce(s, s[2]);
      case 'sep_conv_3x3':
        return this.sepConv(s, 3, stride, 1);
      case 'sep_conv_5x5':
        return this.sepConv(s, 5, stride, 2);
      case 'sep_conv_7x7':
        return this.sepConv(s, 7, stride, 3);
      case 'dil_conv_3x3':
        return this.dilConv(s, 3, stride, 2);
      case 'dil_conv_5x5':
        return this.dilConv(s, 5, stride, 4);
      case 'conv_7x1_1x7': {
        const x = this.conv(this.tensor(s), s[2], [1, 7], [1, stride], [0, 3]);
        return this.batchNorm(this.conv(x, s[2], [7, 1], [stride, 1], [3, 0]));
      }
    }
  }
}

function walk(
  g: NetworkGeometry,
  nodes: number,
  concatOf: (reduction: boolean) => readonly number[],
  choose: (reduction: boolean, edge: number, shapes: readonly Shape[]) => OpName,
  inputOf: (reduction: boolean, edge: number) => number,
): { counter: Counter; aux: Counter } {
  const n = new Counter();
  const aux = new Counter();
  const C = g.channels;
  const stem = n.batchNorm(n.conv(g.inputShape, 3 * C, [3, 3], [1, 1], [1, 1]));
  let prevPrev = stem;
  let prev = stem;
  let current = C;
  let reductionPrev = false;
  const auxAfter = Math.floor((2 * g.layers) / 3);
  for (let i = 0; i < g.layers; i++) {
    const reduction = i === Math.floor(g.layers / 3) || i === Math.floor((2 * g.layers) / 3);
    if (reduction) current *= 2;
    try {
      const s0 = reductionPrev
        ? n.factorizedReduce(prevPrev, current)
        : n.reluConvBn(prevPrev, current);
      const s1 = n.reluConvBn(prev, current);
      if (s0[0] !== s1[0] || s0[1] !== s1[1]) {
        throw new RangeError(
          `cell inputs disagree after preprocessing: ${s0.join('x')} vs ${s1.join('x')}`,
        );
      }
      const shapes: Shape[] = [s0, s1];
      for (let k = 0; k < nodes; k++) {
        let nodeShape: Shape | undefined;
        for (const e of [2 * k, 2 * k + 1]) {
          const input = inputOf(reduction, e);
          const inShape = shapes[input];
          if (!inShape)
            throw new RangeError(`edge ${e} reads state ${input}, which does not exist yet`);
          const stride = reduction && input < 2 ? 2 : 1;
          nodeShape = n.op(choose(reduction, e, shapes), inShape, stride);
        }
        shapes.push(n.tensor(nodeShape as Shape)); // the node's sum
      }
      const concat = concatOf(reduction);
      const first = shapes[concat[0] as number] as Shape;
      const out: Shape = [first[0], first[1], current * concat.length];
      n.tensor(out);
      reductionPrev = reduction;
      prevPrev = prev;
      prev = out;
    } catch (err) {
      if (err instanceof RangeError) throw new RangeError(`cell ${i}: ${err.message}`);
      throw err;
    }
    if (i === auxAfter) {
      const pool = Math.min(5, prev[0], prev[1]);
      let x = aux.pool(aux.tensor(prev), pool, 3, 0);
      x = aux.tensor(aux.batchNorm(aux.conv(x, 128, [1, 1], [1, 1], [0, 0])));
      const k = Math.min(2, x[0], x[1]);
      x = aux.tensor(aux.batchNorm(aux.conv(x, 768, [k, k], [1, 1], [0, 0])));
      aux.dense(768, g.numClasses);
    }
  }
  n.tensor([1, 1, prev[2]]); // global average pooling
  n.dense(prev[2], g.numClasses);
  return { counter: n, aux };
}

function sizeOf(w: { counter: Counter; aux: Counter }): NetworkSize {
  return {
    params: w.counter.params,
    macs: w.counter.macs,
    activations: w.counter.activations,
    auxiliaryParams: w.aux.params,
    auxiliaryActivations: w.aux.activations,
  };
}

/** Exact params and MACs, and activations, of NetworkCIFAR with this genotype. RangeError when it cannot be built. */
export function dartsNetworkSize(genotype: Genotype, geometry: NetworkGeometry): NetworkSize {
  if (genotype.normal.length !== genotype.reduce.length) {
    throw new RangeError('normal and reduce cells must have the same number of nodes');
  }
  const edges = (reduction: boolean) => (reduction ? genotype.reduce : genotype.normal);
  return sizeOf(
    walk(
      geometry,
      genotype.normal.length / 2,
      (reduction) => (reduction ? genotype.reduce_concat : genotype.normal_concat),
      (reduction, e) => (edges(reduction)[e] as readonly [OpName, number])[0],
      (reduction, e) => (edges(reduction)[e] as readonly [OpName, number])[1],
    ),
  );
}

/**
 * The largest network a search could sample: cells of `nodes` nodes that concatenate every node
 * (as sampling.ts does), each node reading the two cell inputs, every edge applying whichever of
 * `ops` costs most memory there (activations x `batch` plus parameters with their gradients and
 * momentum).
 */
export function largestSearchNetworkSize(
  ops: readonly OpName[],
  nodes: number,
  geometry: NetworkGeometry,
  batch: number,
): NetworkSize {
  const cost = (name: OpName, s: Shape, stride: number): number => {
    const c = new Counter();
    c.op(name, s, stride);
    return (
      c.activations * batch * MEMORY_MODEL.trainBytesPerActivation +
      c.params * MEMORY_MODEL.trainBytesPerParam
    );
  };
  const choose = (reduction: boolean, _e: number, shapes: readonly Shape[]): OpName => {
    const s = shapes[0] as Shape;
    const stride = reduction ? 2 : 1;
    let best = ops[0] as OpName;
    for (const name of ops) if (cost(name, s, stride) > cost(best, s, stride)) best = name;
    return best;
  };
  const concat = Array.from({ length: nodes }, (_, k) => k + 2);
  return sizeOf(
    walk(
      geometry,
      nodes,
      () => concat,
      choose,
      (_reduction, e) => e % 2,
    ),
  );
}

/**
 * The memory model, calibrated on the wasm backend (tfjs-backend-wasm 4.22 with this project's
 * kernels, Node 20, one thread) against the size of the wasm heap after two training steps or two
 * attack input gradients (the heap only grows, and the backend caps it at 4 GiB: its memory has at
 * most 65536 pages). "act" is {@link dartsNetworkSize}'s activations per image:
 *
 *   network (10 classes)       act      train batch 8 / 40      attack batch 32 / 128
 *   DARTS_V2 C16 8 cells 32x32x3  4.42 M    144 /  635 MB        429 / 1622 MB
 *   DARTS_V2 C8 5 cells 28x28x1   0.99 M     33 /  172 MB        100 /  429 MB
 *   NASNet C16 8 cells 32x32x3    5.21 M    172 /  836 MB        611 / 2083 MB
 *   AmoebaNet C16 8 cells 32x32x3 4.38 M    172 /  738 MB        515 / 1921 MB
 *   ENAS C16 8 cells 32x32x3      5.31 M    172 /  838 MB        611 / 2271 MB
 *   DARTS_V2 C36 8 cells 32x32x3  9.95 M    298 / 1501 MB        997 / 3572 MB
 *   PC_DARTS C24 6 cells 32x32x3  6.43 M    207 /  950 MB        646 / 2356 MB
 *   DARTS_V1 C16 14 cells 28x28x1 5.85 M    172 /  905 MB        614 / 2109 MB
 *
 * (DARTS_V2 C16 8 cells on CIFAR-10 trains at 15.3 MB an image.) Per counted activation a training
 * step takes 3.6 to 4.6 bytes of heap (the saved forward tensors, the gradients in flight, the
 * allocator's slack), an attack 2.8 to 3.6 (no weight gradients, BatchNorm folded into the
 * convolutions). With 4.4 and 3.5 bytes, and 16 bytes a parameter in training (weights, gradients,
 * clipped gradients, momentum), 8 in attacks, every figure above is estimated within -6% and +23%
 * (except the smallest, 33 MB, +50%). tests/evaluator/resource-limits.test.ts re-measures one of them.
 */
export const MEMORY_MODEL = {
  trainBytesPerActivation: 4.4,
  attackBytesPerActivation: 3.5,
  trainBytesPerParam: 16,
  attackBytesPerParam: 8,
  /** The backend's own heap before any network (the wasm module starts with 16 MiB). */
  baseBytes: 16 * 2 ** 20,
} as const;

export interface MemoryEstimate {
  readonly params: number;
  /** Activations of one image (auxiliary head included when it is trained). */
  readonly activationsPerImage: number;
  readonly batchSize: number;
  /** Images per attack forward/backward pass (evaluate.ts's evalBatchSize). */
  readonly attackBatchSize: number;
  readonly trainingBytes: number;
  readonly attackBytes: number;
  /** The larger of the two. */
  readonly peakBytes: number;
}

/** Images per attack pass: evaluate.ts's evalBatchSize (kept equal by a test). */
export function attackBatchSize(config: Pick<EvalConfig, 'batchSize'>): number {
  return Math.max(config.batchSize, 128);
}

/** Training and attack memory of an evaluation of a network of this size under `config`. */
export function estimateMemory(
  net: NetworkSize,
  config: Pick<EvalConfig, 'batchSize' | 'auxiliaryWeight'>,
): MemoryEstimate {
  const m = MEMORY_MODEL;
  const auxiliary = config.auxiliaryWeight > 0;
  const params = net.params + (auxiliary ? net.auxiliaryParams : 0);
  const trainActivations = net.activations + (auxiliary ? net.auxiliaryActivations : 0);
  const attackBatch = attackBatchSize(config);
  const trainingBytes =
    m.baseBytes +
    params * m.trainBytesPerParam +
    trainActivations * config.batchSize * m.trainBytesPerActivation;
  const attackBytes =
    m.baseBytes +
    net.params * m.attackBytesPerParam +
    net.activations * attackBatch * m.attackBytesPerActivation;
  return {
    params,
    activationsPerImage: trainActivations,
    batchSize: config.batchSize,
    attackBatchSize: attackBatch,
    trainingBytes,
    attackBytes,
    peakBytes: Math.max(trainingBytes, attackBytes),
  };
}

/**
 * Default limit: the wasm backend's heap cap (4 GiB). The estimate errs high by up to a quarter, so
 * this refuses some networks that would just fit (raise the limit to try them) and lets through
 * few that do not.
 */
export const DEFAULT_MAX_MEMORY_MB = 4096;
export const MAX_MEMORY_ENV_VAR = 'ROBUST_NAS_MAX_MEMORY_MB';

/** The limit: `given` (a CLI option or server setting), else env ROBUST_NAS_MAX_MEMORY_MB, else the default. */
export function memoryLimitMB(given?: string | number): number {
  const raw = given ?? process.env[MAX_MEMORY_ENV_VAR];
  if (raw === undefined || raw === '') return DEFAULT_MAX_MEMORY_MB;
  const n = typeof raw === 'number' ? raw : Number(raw.trim());
  if (!Number.isFinite(n) || n <= 0 || (typeof raw === 'string' && raw.trim() === '')) {
    throw new InputError(
      `the memory limit must be a positive number of megabytes, got '${String(raw)}' (--max-memory-mb or ${MAX_MEMORY_ENV_VAR})`,
    );
  }
  return n;
}

/** One problem of a config, by field (the server's 400 issues). */
export interface ResourceIssue {
  readonly path: string;
  readonly message: string;
}

/** A config that would need more memory than allowed; an InputError (CLI: exit 2). */
export class ResourceLimitError extends InputError {
  override name = 'ResourceLimitError';
  constructor(
    message: string,
    readonly issues: readonly ResourceIssue[],
  ) {
    super(message);
  }
}

const mb = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MB`;
const millions = (n: number): string => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} M`;

/** One line with the figures, e.g. for the CLI and the server's 400. */
export function describeEstimate(e: MemoryEstimate): string {
  const which =
    e.attackBytes > e.trainingBytes ? `attack batch ${e.attackBatchSize}` : `batch ${e.batchSize}`;
  return (
    `${millions(e.params)} parameters, ${millions(e.activationsPerImage)} activations per image, ` +
    `estimated memory ${mb(e.peakBytes)} (${which}; training ${mb(e.trainingBytes)}, attacks ${mb(e.attackBytes)})`
  );
}

function refuse(what: string, e: MemoryEstimate, limitMB: number, prefix: string): never {
  const attacks = e.attackBytes > e.trainingBytes;
  const advice = attacks
    ? `lower channels or layers (attacks run ${e.attackBatchSize} images at a time, whatever the batch size)`
    : 'lower channels, layers or batch size';
  const line =
    `${what} is too big: ${describeEstimate(e)} exceeds the limit of ${limitMB} MB ` +
    `(--max-memory-mb or ${MAX_MEMORY_ENV_VAR}); ${advice}`;
  const message = `needs an estimated ${mb(e.peakBytes)} (limit ${limitMB} MB): ${describeEstimate(e)}; ${advice}`;
  const fields = attacks ? ['channels', 'layers'] : ['channels', 'layers', 'batchSize'];
  throw new ResourceLimitError(
    line,
    fields.map((f) => ({ path: `${prefix}${f}`, message })),
  );
}

function geometryOf(
  config: Pick<EvalConfig, 'dataset' | 'dataDir' | 'channels' | 'layers'>,
): NetworkGeometry {
  const spec = datasetGeometry(config.dataset, config.dataDir);
  return {
    channels: config.channels,
    layers: config.layers,
    numClasses: spec.numClasses,
    inputShape: spec.shape,
  };
}

function sizeOrInputError(fn: () => NetworkSize): NetworkSize {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError)
      throw new InputError(`cannot build this network: ${err.message}`);
    throw err;
  }
}

/**
 * Refuses (ResourceLimitError) to evaluate DARTS networks of these genotypes under `config` when
 * the estimated memory exceeds `limitMB`; an ensemble's members count together (its attacks run
 * them all at once). Returns the estimate otherwise.
 */
export function checkEvaluationMemory(
  genotypes: readonly Genotype[],
  config: EvalConfig,
  limitMB: number,
): MemoryEstimate | undefined {
  if (genotypes.length === 0) return undefined;
  const estimates = genotypes.map((g) =>
    estimateMemory(
      sizeOrInputError(() => dartsNetworkSize(g, geometryOf(config))),
      config,
    ),
  );
  const total: MemoryEstimate = estimates.slice(1).reduce(
    (a, b) => ({
      params: a.params + b.params,
      activationsPerImage: a.activationsPerImage + b.activationsPerImage,
      batchSize: a.batchSize,
      attackBatchSize: a.attackBatchSize,
      // Members train one at a time; they are attacked together.
      trainingBytes: Math.max(a.trainingBytes, b.trainingBytes),
      attackBytes: a.attackBytes + b.attackBytes - MEMORY_MODEL.baseBytes,
      peakBytes: 0,
    }),
    estimates[0] as MemoryEstimate,
  );
  const e = { ...total, peakBytes: Math.max(total.trainingBytes, total.attackBytes) };
  if (e.peakBytes > limitMB * 2 ** 20) {
    refuse(genotypes.length > 1 ? 'this ensemble' : 'this network', e, limitMB, '');
  }
  return e;
}

/**
 * Refuses (ResourceLimitError, issues under `evaluation.`) a search with the real evaluator whose
 * largest possible candidate ({@link largestSearchNetworkSize}) would exceed `limitMB`. Surrogate
 * searches build no network and always pass.
 */
export function checkSearchMemory(
  config: Pick<SearchConfig, 'evaluator' | 'evaluation' | 'nodes'> & {
    ops?: readonly OpName[] | undefined;
  },
  limitMB: number,
): MemoryEstimate | undefined {
  if (config.evaluator !== 'real') return undefined;
  const ops = config.ops ?? SAMPLING_OPS;
  const e = estimateMemory(
    sizeOrInputError(() =>
      largestSearchNetworkSize(
        ops,
        config.nodes,
        geometryOf(config.evaluation),
        config.evaluation.batchSize,
      ),
    ),
    config.evaluation,
  );
  if (e.peakBytes > limitMB * 2 ** 20) {
    refuse('the largest network this search could sample', e, limitMB, 'evaluation.');
  }
  return e;
}
