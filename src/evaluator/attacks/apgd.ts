/**
 * The APGD iteration (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", Algorithm 1), L-infinity, shared by APGD-CE
 * (cross-entropy) and APGD-T (targeted DLR loss). Checked against auto-attack's
 * `autoattack/autopgd_base.py` (fra31/auto-attack), `APGDAttack.attack_single_run`:
 * - start: x + eps * t / max|t| for t uniform in [-1, 1], clamped to [0, 1]
 *   (`t = 2 * torch.rand(x.shape) - 1; x_adv = x + eps * normalize(t)`); initial step 2 * eps
 *   (`alpha = 2.`, `step_size = alpha * eps`);
 * - each step: z = P(x_k + eta * sign(grad)); x_{k+1} = P(x_k + a (z - x_k) + (1 - a)(x_k - x_{k-1}))
 *   with momentum a = 0.75 (1 on the first step: `a = 0.75 if i > 0 else 1.0`), P = projection to
 *   the eps-ball and [0, 1];
 * - checkpoints ({@link apgdCheckpoints}): the first after `n_iter_2 = max(int(0.22 n_iter), 1)`
 *   iterations, then at intervals shrinking by `size_decr = max(int(0.03 n_iter), 1)` down to
 *   `n_iter_min = max(int(0.06 n_iter), 1)`; at a checkpoint an image whose loss rose in at most
 *   rho = 75% of the steps since the last one (`check_oscillation`), or whose step was not halved
 *   last time and whose best loss did not improve (`fl_reduce_no_impr`), has its step size halved
 *   and restarts from its best point with the gradient there ({@link stepSizeCheck}).
 * Returns, per image, whether some iterate was misclassified, and the latest such iterate
 * (`x_best_adv[ind_pred] = x_adv[ind_pred]`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { lossAndGradient, projectLinf, type PerImageLoss } from './gradient.js';
import type { Classifier } from './types.js';

/** The momentum and oscillation threshold of the paper (auto-attack's `rho=.75`). */
export const APGD_MOMENTUM = 0.75;
export const APGD_RHO = 0.75;

export type Mask = Uint8Array;

/** The checkpoint parameters of `init_hyperparam` in autopgd_base.py. */
export function apgdCheckpointParameters(nIter: number): {
  first: number;
  min: number;
  decrease: number;
} {
  return {
    first: Math.max(Math.floor(0.22 * nIter), 1),
    min: Math.max(Math.floor(0.06 * nIter), 1),
    decrease: Math.max(Math.floor(0.03 * nIter), 1),
  };
}

/**
 * The iteration counts (1-based: after that many iterations) at which APGD checks its step sizes;
 * for 100 iterations 22, 41, 57, 70, 80, 87, 93, 99 (the paper's p_j = 0, 0.22, 0.41, ...).
 */
export function apgdCheckpoints(nIter: number): number[] {
  const { first, min, decrease } = apgdCheckpointParameters(nIter);
  const out: number[] = [];
  let k = first;
  let at = 0;
  while (at + k <= nIter) {
    at += k;
    out.push(at);
    k = Math.max(k - decrease, min);
  }
  return out;
}

/**
 * The step-size decision at a checkpoint (autopgd_base.py `check_oscillation` and
 * `fl_reduce_no_impr`), per image: halve when the loss rose in at most rho * k of the last k steps
 * (`t <= k * k3`), or when the step was not halved at the previous checkpoint and the best loss
 * did not improve since (`loss_best_last_check >= loss_best`). `lossSteps[j]` holds the losses
 * after iteration j; a step before the first counts as loss 0 (the reference reads its zero-filled
 * `loss_steps[-1]` there).
 */
export function stepSizeCheck(
  lossSteps: readonly Float32Array[],
  it: number,
  k: number,
  reducedLastCheck: Mask,
  lossBestLastCheck: Float32Array,
  lossBest: Float32Array,
  rho = APGD_RHO,
): Mask {
  const n = lossBest.length;
  const reduce = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let increases = 0;
    for (let c = 0; c < k; c++) {
      const now = lossSteps[it - c]?.[i] ?? 0;
      const before = lossSteps[it - c - 1]?.[i] ?? 0;
      if (now > before) increases++;
    }
    const oscillating = increases <= k * rho;
    const stalled =
      !reducedLastCheck[i] && (lossBestLastCheck[i] as number) >= (lossBest[i] as number);
    if (oscillating || stalled) reduce[i] = 1;
  }
  return reduce;
}

/** Per image: `a` where mask[i] else `b` (new tensor). */
export function select(mask: Mask, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.tensor4d(mask, [mask.length, 1, 1, 1], 'bool');
    return tf.where(tf.broadcastTo(m, a.shape), a, b) as tf.Tensor4D;
  });
}

/** Predicted class per row of `logits`, as an array. */
export function argMaxArray(logits: tf.Tensor2D): Int32Array {
  const t = tf.argMax(logits, 1);
  const out = t.dataSync() as Int32Array;
  t.dispose();
  return out;
}

export function replace<T extends tf.Tensor>(old: T, next: T): T {
  if (old !== next) old.dispose();
  return next;
}

/**
 * Rows of `base` with some replaced by rows of `update`: row i of the result is
 * `update[from[i]]` where from[i] >= 0, else `base[i]` (new tensor). Lets an attack run on the
 * images still robust and write its results back.
 */
export function scatterRows(base: tf.Tensor4D, update: tf.Tensor4D, from: Int32Array): tf.Tensor4D {
  const n = base.shape[0];
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = (from[i] as number) >= 0 ? n + (from[i] as number) : i;
  return tf.tidy(() => tf.gather(tf.concat([base, update], 0), tf.tensor1d(index, 'int32')));
}

/** Rows `indices` of `t` (new tensor). */
export function gatherRows<T extends tf.Tensor>(t: T, indices: readonly number[]): T {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(Int32Array.from(indices), 'int32')) as T);
}

export interface ApgdRunResult {
  /** Adversarial examples found (meaningful where fooled[i]). */
  readonly adv: tf.Tensor4D;
  /** 1 where some iterate was misclassified. */
  readonly fooled: Mask;
}

/** One APGD run of `nIter` iterations on every image of `x`, maximising `loss`. */
export function apgdRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: number,
  nIter: number,
  seed: number,
  loss?: PerImageLoss,
): ApgdRunResult {
  const n = x.shape[0];
  const labels = y.dataSync();
  const { first: nIter2, min: nIterMin, decrease: sizeDecr } = apgdCheckpointParameters(nIter);

  let xAdv = tf.tidy(() => {
    const t = tf.randomUniform(x.shape, -1, 1, 'float32', seed);
    const maxAbs = tf.max(tf.abs(t), [1, 2, 3], true);
    return tf.clipByValue(tf.add(x, tf.mul(eps, tf.div(t, tf.add(maxAbs, 1e-12)))), 0, 1);
  }) as tf.Tensor4D;
  let xBest = tf.clone(xAdv);
  let xBestAdv = tf.clone(xAdv);
  let xAdvOld = tf.clone(xAdv);

  const first = lossAndGradient(model, xAdv, y, loss);
  let grad = first.grad;
  let gradBest = tf.clone(grad);
  const firstPred = argMaxArray(first.logits);
  const fooled = new Uint8Array(n);
  for (let i = 0; i < n; i++) fooled[i] = firstPred[i] !== labels[i] ? 1 : 0;
  const lossBest = Float32Array.from(first.loss.dataSync());
  first.logits.dispose();
  first.loss.dispose();

  const stepSize = new Float32Array(n).fill(2 * eps);
  const lossSteps: Float32Array[] = [];
  let lossBestLastCheck = Float32Array.from(lossBest);
  let reducedLastCheck: Mask = new Uint8Array(n).fill(1);
  let k = nIter2;
  let sinceCheck = 0;

  for (let it = 0; it < nIter; it++) {
    const a = it > 0 ? APGD_MOMENTUM : 1;
    const next = tf.tidy(() => {
      const step = tf.tensor4d(stepSize, [n, 1, 1, 1]);
      const previous = tf.sub(xAdv, xAdvOld);
      const z = projectLinf(tf.add(xAdv, tf.mul(step, tf.sign(grad))), x, eps);
      const moved = tf.add(tf.add(xAdv, tf.mul(tf.sub(z, xAdv), a)), tf.mul(previous, 1 - a));
      return projectLinf(moved as tf.Tensor4D, x, eps);
    });
    xAdvOld = replace(xAdvOld, xAdv);
    xAdv = next;

    const r = lossAndGradient(model, xAdv, y, loss);
    grad = replace(grad, r.grad);
    const pred = argMaxArray(r.logits);
    const lossNow = Float32Array.from(r.loss.dataSync());
    r.logits.dispose();
    r.loss.dispose();

    const wrongNow = new Uint8Array(n);
    const improved = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (pred[i] !== labels[i]) {
        wrongNow[i] = 1;
        fooled[i] = 1;
      }
      if ((lossNow[i] as number) > (lossBest[i] as number)) {
        improved[i] = 1;
        lossBest[i] = lossNow[i] as number;
      }
    }
    xBestAdv = replace(xBestAdv, select(wrongNow, xAdv, xBestAdv));
    xBest = replace(xBest, select(improved, xAdv, xBest));
    gradBest = replace(gradBest, select(improved, grad, gradBest));
    lossSteps.push(lossNow);

    sinceCheck++;
    if (sinceCheck === k) {
      const reduce = stepSizeCheck(lossSteps, it, k, reducedLastCheck, lossBestLastCheck, lossBest);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (reduce[i]) {
          stepSize[i] = (stepSize[i] as number) / 2;
          any = true;
        }
      }
      reducedLastCheck = reduce;
      lossBestLastCheck = Float32Array.from(lossBest);
      if (any) {
        xAdv = replace(xAdv, select(reduce, xBest, xAdv));
        grad = replace(grad, select(reduce, gradBest, grad));
      }
      k = Math.max(k - sizeDecr, nIterMin);
      sinceCheck = 0;
    }
  }
  tf.dispose([xAdv, xAdvOld, xBest, grad, gradBest]);
  return { adv: xBestAdv, fooled };
}
