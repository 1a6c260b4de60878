/**
 * The surrogate evaluator, for dry runs, demos and tests: a fast, deterministic function of the
 * genotype that trains nothing. Its figures are NOT accuracies of any network: every Scores it returns
 * carries `surrogate: true` and backend 'surrogate'. It is shaped so that two objectives trade off
 * (like clean and PGD accuracy tend to): parametric ops (convolutions) raise the "clean" figure and
 * lower the "robust" one, pooling and skips do the opposite, depth helps both a little, and a small
 * perturbation seeded by the genotype hash separates genotypes with the same op counts.
 */
import { canonicalGenotype, genotypeHash } from '../core/canonical.js';
import {
  harmonicRobustnessScore,
  type AttackScore,
  type EvalConfig,
  type Evaluate,
  type Scores,
} from '../core/evaluation.js';
import { nodeCount, type Edge, type Genotype, type OpName } from '../core/genotype.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';

/** Relative capacity of each op (0 = none/parameter-free). */
const CAPACITY: Record<OpName, number> = {
  none: 0,
  max_pool_3x3: 0,
  avg_pool_3x3: 0,
  skip_connect: 0,
  sep_conv_3x3: 1,
  sep_conv_5x5: 1.25,
  sep_conv_7x7: 1.4,
  dil_conv_3x3: 0.8,
  dil_conv_5x5: 1,
  conv_7x1_1x7: 1.1,
};

/** Weights per output channel squared of each op (rough params of one edge at C channels: w*C^2). */
const WEIGHTS: Record<OpName, number> = {
  none: 0,
  max_pool_3x3: 0,
  avg_pool_3x3: 0,
  skip_connect: 0,
  sep_conv_3x3: 2.2,
  sep_conv_5x5: 2.5,
  sep_conv_7x7: 2.8,
  dil_conv_3x3: 1.1,
  dil_conv_5x5: 1.2,
  conv_7x1_1x7: 14,
};

/** Attack strength relative to PGD. */
const STRENGTH: Record<string, number> = {
  fgsm: 0.7,
  rfgsm: 0.8,
  stepll: 0.6,
  pgd: 1,
  'apgd-ce': 1.1,
};

interface CellStats {
  capacity: number; // mean capacity per edge, 0..1.4
  smoothing: number; // fraction of pooling / skip edges
  depth: number; // longest chain of intermediate nodes / node count
  weights: number;
}

function cellStats(edges: readonly Edge[]): CellStats {
  const nodes = nodeCount(edges);
  const depthOf: number[] = [0, 0];
  let capacity = 0;
  let smoothing = 0;
  let weights = 0;
  for (let n = 0; n < nodes; n++) {
    let d = 0;
    for (const [op, input] of edges.slice(2 * n, 2 * n + 2)) {
      capacity += CAPACITY[op];
      weights += WEIGHTS[op];
      if (op === 'max_pool_3x3' || op === 'avg_pool_3x3' || op === 'skip_connect') smoothing++;
      d = Math.max(d, (depthOf[input] ?? 0) + 1);
    }
    depthOf.push(d);
  }
  const e = Math.max(1, edges.length);
  return {
    capacity: capacity / e,
    smoothing: smoothing / e,
    depth: Math.max(...depthOf) / Math.max(1, nodes),
    weights,
  };
}

const clamp01 = (v: number) => Math.min(0.99, Math.max(0.01, v));
const round = (v: number) => Math.round(v * 1e6) / 1e6;

function estimate(accuracy: number, n: number) {
  return { accuracy, stderr: round(Math.sqrt((accuracy * (1 - accuracy)) / n)), n };
}

/**
 * What stands in for the training seed's effect: `sd` is the standard deviation of a perturbation of
 * the clean figure and of the robustness (so of every adversarial figure), drawn from an RNG seeded
 * by the genotype's hash and the evaluation seed. Absent or sd 0: none (the figures depend on the
 * genotype only).
 */
export interface SurrogateNoise {
  readonly sd: number;
  readonly seed: number;
}

/**
 * The noisy test bed: seed noise calibrated to a chosen ICC per objective (the share of one
 * evaluation's variance that belongs to the genotype), added to the noise-free ("true") figures.
 * The between-genotype sd of each figure is measured on random genotypes of the DARTS space under
 * the same config (memoised), and the seed noise's sd is chosen so that
 * ICC = between^2 / (between^2 + noise^2). `common` is the share of the noise variance that the seed
 * imposes on every genotype alike (the k-th seed's main effect), so that common random numbers have
 * something to cancel. Measured on the demo's settings: clean ICC about 0.5, PGD about 0.17, the
 * seed's main effect about a sixth of PGD's seed variance (sd 0.068 within 0.164).
 */
export interface SurrogateIcc {
  readonly clean: number;
  readonly robust: number;
  readonly common?: number;
}

const betweenSdMemo = new Map<string, { clean: number; robust: number }>();

/** Between-genotype sd of the noise-free clean and first adversarial figures under `config`. */
export function surrogateBetweenSd(config: EvalConfig): { clean: number; robust: number } {
  const key = JSON.stringify([config.attacks, config.channels, config.layers, config.split]);
  const hit = betweenSdMemo.get(key);
  if (hit) return hit;
  const rng = Rng.fromSeed('surrogate between-genotype sd');
  const clean: number[] = [];
  const robust: number[] = [];
  for (let i = 0; i < 400; i++) {
    const s = surrogateScores(sampleGenotype(rng), config);
    clean.push(s.clean.accuracy);
    robust.push(s.adversarial[0]!.accuracy);
  }
  const sd = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  };
  const out = { clean: sd(clean), robust: sd(robust) };
  betweenSdMemo.set(key, out);
  return out;
}

/** Noise sd that gives `icc` for a between-genotype sd `between`. */
function noiseSdFor(icc: number, between: number): number {
  if (!(icc > 0 && icc <= 1)) throw new RangeError(`an ICC must be in (0, 1], got ${icc}`);
  return between * Math.sqrt((1 - icc) / icc);
}

/**
 * The test bed's scores: the noise-free figures of `genotype` plus seed noise with the ICCs of
 * `icc` (see SurrogateIcc). Same (genotype, config, seed): same scores.
 */
export function noisySurrogateScores(
  genotype: Genotype,
  config: EvalConfig,
  seed: number,
  icc: SurrogateIcc,
): Scores {
  const truth = surrogateScores(genotype, config);
  const between = surrogateBetweenSd(config);
  const common = Math.min(1, Math.max(0, icc.common ?? 0));
  const own = Rng.fromSeed(`surrogate-icc:${genotypeHash(genotype)}:${seed}`);
  const shared = Rng.fromSeed(`surrogate-icc-common:${seed}`);
  const z = () => Math.sqrt(common) * shared.normal() + Math.sqrt(1 - common) * own.normal();
  const zClean = z();
  const zRobust = z();
  const cleanShift = noiseSdFor(icc.clean, between.clean) * zClean;
  const robustShift = noiseSdFor(icc.robust, between.robust) * zRobust;
  const n = truth.clean.n;
  const clean = round(clamp01(truth.clean.accuracy + cleanShift));
  const adversarial = truth.adversarial.map((a) => ({
    ...a,
    ...estimate(round(Math.min(clean, clamp01(a.accuracy + robustShift))), n),
  }));
  return {
    ...truth,
    clean: estimate(clean, n),
    adversarial,
    hrs: round(harmonicRobustnessScore(clean, adversarial[0]!.accuracy)),
  };
}

/** The surrogate scores of a genotype under an evaluation config (pure, synchronous). */
export function surrogateScores(
  genotype: Genotype,
  config: EvalConfig,
  seedNoise?: SurrogateNoise,
): Scores {
  const g = canonicalGenotype(genotype);
  const normal = cellStats(g.normal);
  const reduce = cellStats(g.reduce);
  const noise = Rng.fromSeed(`surrogate:${genotypeHash(g)}`);
  const capacity = (2 * normal.capacity + reduce.capacity) / 3 / 1.4;
  const smoothing = (2 * normal.smoothing + reduce.smoothing) / 3;
  const depth = (normal.depth + reduce.depth) / 2;
  const n = config.split === 'test' ? config.testSize : config.valSize;
  let cleanShift = 0;
  let robustnessShift = 0;
  if (seedNoise && seedNoise.sd > 0) {
    const seeded = Rng.fromSeed(`surrogate-seed:${genotypeHash(g)}:${seedNoise.seed}`);
    cleanShift = seedNoise.sd * seeded.normal();
    robustnessShift = seedNoise.sd * seeded.normal();
  }
  const clean = round(
    clamp01(
      0.55 +
        0.35 * capacity +
        0.06 * depth -
        0.05 * smoothing +
        0.04 * (noise.next() - 0.5) +
        cleanShift,
    ),
  );
  // Robustness in [0, 1]: how slowly accuracy falls with eps.
  const robustness = clamp01(
    0.15 +
      0.55 * smoothing +
      0.15 * (1 - capacity) +
      0.1 * depth +
      0.06 * (noise.next() - 0.5) +
      robustnessShift,
  );
  const adversarialAt = (attack: string, eps: number) =>
    round(clamp01(clean * Math.exp(-(eps * 25 * (STRENGTH[attack] ?? 1) * (1 - robustness)))));
  const adversarial: AttackScore[] = config.attacks.map((a) => ({
    ...estimate(adversarialAt(a.name, a.eps), n),
    attack: a.name,
    eps: a.eps,
    steps: a.steps,
  }));
  const first = config.attacks[0]!;
  const curve = config.curveEps.map((eps) => ({ eps, accuracy: adversarialAt(first.name, eps) }));
  const c = config.channels;
  const params = Math.round(
    (normal.weights * (config.layers - 2) + reduce.weights * 2) * c * c * 4 + 10 * c * 4,
  );
  const macs = Math.round(params * 196);
  const train = round(1e-6 * macs * config.epochs);
  const attack = round(1e-7 * macs * config.attacks.reduce((s, a) => s + a.steps * a.restarts, 0));
  return {
    clean: estimate(clean, n),
    adversarial,
    hrs: round(harmonicRobustnessScore(clean, adversarial[0]!.accuracy)),
    ...(curve.length > 0
      ? { curve, curveMean: round(curve.reduce((s, p) => s + p.accuracy, 0) / curve.length) }
      : {}),
    params,
    macs,
    seconds: { train, attack, total: round(train + attack) },
    backend: 'surrogate',
    surrogate: true,
  };
}

/**
 * The surrogate as an {@link Evaluate}, optionally waiting `delayMs` per evaluation (tests, demos),
 * with a seed-dependent perturbation of sd `noise` (default 0: the seed changes nothing).
 */
export function createSurrogateEvaluate(
  options: { delayMs?: number; noise?: number; icc?: SurrogateIcc } = {},
): Evaluate {
  const delay = options.delayMs ?? 0;
  const sd = options.noise ?? 0;
  const icc = options.icc;
  return async (genotype, config, seed, onProgress) => {
    if (delay > 0) {
      onProgress?.({ phase: 'train', done: 0, total: 1 });
      await new Promise((r) => setTimeout(r, delay));
    }
    onProgress?.({ phase: 'train', done: 1, total: 1 });
    if (icc) return { scores: noisySurrogateScores(genotype, config, seed, icc) };
    return { scores: surrogateScores(genotype, config, sd > 0 ? { sd, seed } : undefined) };
  };
}
