/**
 * APGD-CE (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks"), L-infinity, cross-entropy loss, as in auto-attack / torchattacks:
 * - start: x + eps * t / max|t| for t uniform in [-1, 1], clamped to [0, 1]; initial step 2 * eps;
 * - each step: z = P(x_k + eta * sign(grad)); x_{k+1} = P(x_k + a (z - x_k) + (1 - a)(x_k - x_{k-1}))
 *   with momentum a = 0.75 (1 on the first step), P = projection to the eps-ball and [0, 1];
 * - checkpoints after p_1 = 0.22 N iterations, then at intervals shrinking by 0.03 N down to 0.06 N:
 *   an image whose loss rose in at most rho = 75% of the steps since the last checkpoint, or whose step
 *   was not halved last time and whose best loss did not improve, has its step size halved and restarts
 *   from its best point;
 * - restarts attack only the images still classified correctly.
 * Returns, per image, an adversarial example when one was found, else the clean image.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { lossAndGradient, predict, projectLinf } from './gradient.js';
import type { Attack, Classifier } from './types.js';

/** The momentum and oscillation threshold of the paper. */
export const APGD_MOMENTUM = 0.75;
export const APGD_RHO = 0.75;

type Mask = Uint8Array;

/** Per image: `a` where mask[i] else `b` (new tensor). */
function select(mask: Mask, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const m = tf.tensor4d(mask, [mask.length, 1, 1, 1], 'bool');
    return tf.where(tf.broadcastTo(m, a.shape), a, b) as tf.Tensor4D;
  });
}

/** Predicted class per row of `logits`, as an array. */
function argMaxArray(logits: tf.Tensor2D): Int32Array {
  const t = tf.argMax(logits, 1);
  const out = t.dataSync() as Int32Array;
  t.dispose();
  return out;
}

function replace<T extends tf.Tensor>(old: T, next: T): T {
  if (old !== next) old.dispose();
  return next;
}

interface RunResult {
  /** Adversarial examples found (meaningful where fooled[i]). */
  readonly adv: tf.Tensor4D;
  /** 1 where some iterate was misclassified. */
  readonly fooled: Mask;
}

function apgdRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: number,
  nIter: number,
  seed: number,
): RunResult {
  const n = x.shape[0];
  const labels = y.dataSync();
  const nIter2 = Math.max(Math.floor(0.22 * nIter), 1);
  const nIterMin = Math.max(Math.floor(0.06 * nIter), 1);
  const sizeDecr = Math.max(Math.floor(0.03 * nIter), 1);

  let xAdv = tf.tidy(() => {
    const t = tf.randomUniform(x.shape, -1, 1, 'float32', seed);
    const maxAbs = tf.max(tf.abs(t), [1, 2, 3], true);
    return tf.clipByValue(tf.add(x, tf.mul(eps, tf.div(t, tf.add(maxAbs, 1e-12)))), 0, 1);
  }) as tf.Tensor4D;
  let xBest = tf.clone(xAdv);
  let xBestAdv = tf.clone(xAdv);
  let xAdvOld = tf.clone(xAdv);

  const first = lossAndGradient(model, xAdv, y);
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
  let reducedLastCheck = new Uint8Array(n).fill(1);
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

    const r = lossAndGradient(model, xAdv, y);
    grad = replace(grad, r.grad);
    const pred = argMaxArray(r.logits);
    const loss = Float32Array.from(r.loss.dataSync());
    r.logits.dispose();
    r.loss.dispose();

    const wrongNow = new Uint8Array(n);
    const improved = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (pred[i] !== labels[i]) {
        wrongNow[i] = 1;
        fooled[i] = 1;
      }
      if ((loss[i] as number) > (lossBest[i] as number)) {
        improved[i] = 1;
        lossBest[i] = loss[i] as number;
      }
    }
    xBestAdv = replace(xBestAdv, select(wrongNow, xAdv, xBestAdv));
    xBest = replace(xBest, select(improved, xAdv, xBest));
    gradBest = replace(gradBest, select(improved, grad, gradBest));
    lossSteps.push(loss);

    sinceCheck++;
    if (sinceCheck === k) {
      const reduce = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++) {
        let increases = 0;
        for (let c = 0; c < k; c++) {
          const now = lossSteps[it - c]?.[i] ?? 0;
          const before = lossSteps[it - c - 1]?.[i] ?? 0;
          if (now > before) increases++;
        }
        const oscillating = increases <= k * APGD_RHO;
        const stalled =
          !reducedLastCheck[i] && (lossBestLastCheck[i] as number) >= (lossBest[i] as number);
        if (oscillating || stalled) {
          reduce[i] = 1;
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

export const apgdCe: Attack = (model, x, y, spec: AttackSpec, rng: Rng) => {
  let adv = tf.clone(x);
  if (spec.eps === 0) return adv;
  const n = x.shape[0];
  const labels = y.dataSync();
  const cleanPred = predict(model, x);
  const predicted = cleanPred.dataSync();
  cleanPred.dispose();
  const robust = new Uint8Array(n);
  for (let i = 0; i < n; i++) robust[i] = predicted[i] === labels[i] ? 1 : 0;
  for (let r = 0; r < spec.restarts && robust.some((v) => v === 1); r++) {
    const run = apgdRun(model, x, y, spec.eps, spec.steps, rng.seed32());
    const take = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (robust[i] && run.fooled[i]) {
        take[i] = 1;
        robust[i] = 0;
      }
    }
    adv = replace(adv, select(take, run.adv, adv));
    run.adv.dispose();
  }
  return adv;
};
