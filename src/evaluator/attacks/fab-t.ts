/**
 * FAB-T (Croce & Hein 2020, "Minimally distorted adversarial examples with a fast adaptive boundary
 * attack"), targeted, L-infinity, as auto-attack's `autoattack/fab_pt.py` (`FABAttack`,
 * `attack_single_run_targeted` and `perturb` with `targeted = True`) and
 * `autoattack/fab_projections.py` (`projection_linf`):
 * - per target class (the clean logit ranked 2nd, 3rd, ...: `la_target = output.sort(dim=-1)[1][:,
 *   -self.target_class]`, target_class = 2 .. n_target_classes + 1; AutoAttack's standard 9) and
 *   restart (1 in the standard evaluation; later restarts start at a random point at half eps),
 *   on the images still robust;
 * - each of `n_iter` iterations linearises f = z_t - z_y at the current point x1
 *   (`get_diff_logits_grads_batch_targeted`: df = -(z_y - z_t), dg = its input gradient), projects
 *   both x1 and the clean image x0 onto the hyperplane {z : dg . z = dg . x1 - df} within [0, 1]
 *   in L-inf ({@link projectionLinf}), and moves to
 *   x1 = clamp((x1 + eta d1)(1 - alpha) + (x0 + eta d2) alpha, 0, 1) with
 *   alpha = min(max(|d1| / (|d1| + |d2|), 0), alpha_max) (`a1 / (a1 + a2)`), eta = 1.05, alpha_max
 *   = 0.1; when x1 is misclassified its distance to x0 is recorded if smaller than the best so far,
 *   and x1 steps back toward x0 by beta = 0.9 (`x1 = im2 + (x1 - im2) * self.beta`);
 * - FAB minimises the perturbation: an image counts as fooled only when its smallest adversarial
 *   example lies within eps (`acc_curr = torch.max(acc_curr, res > self.eps)`); others come back
 *   clean.
 * Budget: `spec.steps` iterations (default AutoAttack's 100), `spec.targets` (default 9, at most
 * classes - 1), `spec.restarts` per target (default 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { AUTOATTACK_STANDARD, type AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { argMaxArray, gatherRows, replace, scatterRows } from './apgd.js';
import { lossAndGradient } from './gradient.js';
import type { Attack, Classifier } from './types.js';

/** fab_pt.py's defaults (AutoAttack keeps them). */
export const FAB_ETA = 1.05;
export const FAB_BETA = 0.9;
export const FAB_ALPHA_MAX = 0.1;

/**
 * The smallest L-inf step d with w . (t + d) = b and t + d in [0, 1] (fab_projections.py
 * `projection_linf`, one row); when the hyperplane cannot be reached inside the box, the step to
 * the box corner that gets closest.
 */
export function projectionLinf(t: Float32Array, wIn: Float32Array, bIn: number): Float32Array {
  const n = t.length;
  let wt = 0;
  for (let i = 0; i < n; i++) wt += (wIn[i] as number) * (t[i] as number);
  const sign = wt - bIn >= 0 ? 1 : -1;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = sign * (wIn[i] as number);
  const bSigned = sign * bIn;

  const a = new Uint8Array(n);
  const d = new Float64Array(n);
  const p = new Float64Array(n);
  let wtSigned = 0;
  let b0 = 0;
  for (let i = 0; i < n; i++) {
    const wi = w[i] as number;
    const ti = t[i] as number;
    a[i] = wi < 0 ? 1 : 0;
    d[i] = wi !== 0 ? (a[i] as number) - ti : 0;
    p[i] = a[i] ? 1 - ti : ti;
    wtSigned += wi * ti;
    b0 += wi * (d[i] as number);
  }
  const b = bSigned - wtSigned;
  // indp: p ascending; the cumulative sums run over p descending (indp2 = indp flipped).
  const indp = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => (p[i] as number) - (p[j] as number),
  );
  const s = new Float64Array(n);
  const sb = new Float64Array(n);
  let sAcc = 0;
  let sbAcc = b0;
  for (let j = 0; j < n; j++) {
    const k = indp[n - 1 - j] as number;
    const wk = w[k] as number;
    sAcc += Math.abs(wk);
    sbAcc += -wk * (d[k] as number);
    s[j] = sAcc;
    sb[j] = sbAcc;
  }
  const b2 = (sb[n - 1] as number) - (s[n - 1] as number) * (p[indp[0] as number] as number);
  const cL = b - b2 > 0;
  const c2 = b - b0 > 0 && b - b2 <= 0;
  if (cL) {
    const lambda = Math.max((b - (sb[n - 1] as number)) / -(s[n - 1] as number), 0);
    for (let i = 0; i < n; i++) d[i] = (2 * (a[i] as number) - 1) * lambda;
  } else if (c2) {
    let lb = 0;
    let ub = n - 1;
    const iterations = Math.ceil(Math.log2(n));
    for (let it = 0; it < iterations; it++) {
      const mid = Math.floor((lb + ub) / 2);
      const cur = indp[n - 1 - mid] as number;
      const bMid = (sb[mid] as number) - (s[mid] as number) * (p[cur] as number);
      if (b - bMid > 0) lb = mid;
      else ub = mid;
    }
    const lambda = Math.max((b - (sb[lb] as number)) / -(s[lb] as number), 0);
    for (let i = 0; i < n; i++) {
      d[i] = a[i] ? Math.min(lambda, d[i] as number) : Math.max(-lambda, d[i] as number);
    }
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = w[i] !== 0 ? (d[i] as number) : 0;
  return out;
}

/** Largest |v| of a row. */
function maxAbs(v: Float32Array, from: number, size: number): number {
  let m = 0;
  for (let k = from; k < from + size; k++) m = Math.max(m, Math.abs(v[k] as number));
  return m;
}

interface FabRunResult {
  readonly adv: tf.Tensor4D;
  /** 1 where an adversarial example within eps was found. */
  readonly fooled: Uint8Array;
}

/** One targeted run on every image of `x` (all classified correctly), toward `targets`. */
function fabRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  targets: tf.Tensor1D,
  eps: number,
  nIter: number,
  randomStart: boolean,
  rng: Rng,
): FabRunResult {
  const [n, h, w, c] = x.shape;
  const size = h * w * c;
  const labels = y.dataSync();
  const x0 = Float32Array.from(x.dataSync());
  const x1 = Float32Array.from(x0);
  if (randomStart) {
    // fab_pt.py: x1 = im2 + min(res2, eps) * t / max|t| * .5 with t uniform in [-1, 1] (res2 = 1e10 here).
    for (let i = 0; i < n; i++) {
      const t = Array.from({ length: size }, () => rng.uniform(-1, 1));
      const m = Math.max(...t.map(Math.abs), 1e-12);
      for (let k = 0; k < size; k++) {
        const at = i * size + k;
        x1[at] = Math.min(Math.max((x0[at] as number) + (eps * 0.5 * (t[k] as number)) / m, 0), 1);
      }
    }
  }
  const adv = Float32Array.from(x0);
  const best = new Float64Array(n).fill(1e10);
  const diff = (logits: tf.Tensor2D, l: tf.Tensor1D): tf.Tensor1D =>
    tf.tidy(() => {
      const classes = logits.shape[1];
      const pick = (cls: tf.Tensor1D) =>
        tf.sum(tf.mul(logits, tf.oneHot(tf.cast(cls, 'int32'), classes)), 1);
      return tf.sub(pick(targets), pick(l)) as tf.Tensor1D;
    });

  for (let it = 0; it < nIter; it++) {
    const current = tf.tensor4d(x1, [n, h, w, c]);
    const r = lossAndGradient(model, current, y, diff);
    current.dispose();
    const df = Float32Array.from(r.loss.dataSync());
    const dg = Float32Array.from(r.grad.dataSync());
    tf.dispose([r.loss, r.grad, r.logits]);
    for (let i = 0; i < n; i++) {
      const from = i * size;
      const wRow = dg.subarray(from, from + size);
      const x1Row = x1.subarray(from, from + size);
      let dot = 0;
      for (let k = 0; k < size; k++) dot += (wRow[k] as number) * (x1Row[k] as number);
      const b = -(df[i] as number) + dot;
      const d1 = projectionLinf(x1Row, wRow, b);
      const d2 = projectionLinf(x0.subarray(from, from + size), wRow, b);
      const a1 = Math.max(maxAbs(d1, 0, size), 1e-8);
      const a2 = Math.max(maxAbs(d2, 0, size), 1e-8);
      const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), FAB_ALPHA_MAX);
      for (let k = 0; k < size; k++) {
        const moved =
          ((x1Row[k] as number) + FAB_ETA * (d1[k] as number)) * (1 - alpha) +
          ((x0[from + k] as number) + FAB_ETA * (d2[k] as number)) * alpha;
        x1[from + k] = Math.min(Math.max(moved, 0), 1);
      }
    }
    const moved = tf.tensor4d(x1, [n, h, w, c]);
    const logits = tf.tidy(() => model.apply(moved, { training: false }).logits);
    moved.dispose();
    const pred = argMaxArray(logits);
    logits.dispose();
    for (let i = 0; i < n; i++) {
      if (pred[i] === labels[i]) continue;
      const from = i * size;
      let dist = 0;
      for (let k = from; k < from + size; k++) {
        dist = Math.max(dist, Math.abs((x1[k] as number) - (x0[k] as number)));
      }
      if (dist < (best[i] as number)) {
        adv.set(x1.subarray(from, from + size), from);
        best[i] = dist;
      }
      for (let k = from; k < from + size; k++) {
        x1[k] = (x0[k] as number) + ((x1[k] as number) - (x0[k] as number)) * FAB_BETA;
      }
    }
  }
  // Success within eps: the returned point is misclassified and at most eps away; others stay clean.
  const fooled = new Uint8Array(n);
  const out = Float32Array.from(x0);
  for (let i = 0; i < n; i++) {
    if ((best[i] as number) <= eps) {
      fooled[i] = 1;
      out.set(adv.subarray(i * size, (i + 1) * size), i * size);
    }
  }
  return { adv: tf.tensor4d(out, [n, h, w, c]), fooled };
}

export const fabT: Attack = (model, x, y, spec: AttackSpec, rng: Rng) => {
  let adv = tf.clone(x);
  if (spec.eps === 0) return adv;
  const n = x.shape[0];
  const labels = y.dataSync();
  const count = Math.min(spec.targets ?? AUTOATTACK_STANDARD.targets, model.numClasses - 1);
  const top = tf.tidy(
    () => tf.topk(model.apply(x, { training: false }).logits, count + 1, true).indices,
  );
  const ranked = top.arraySync() as number[][];
  top.dispose();
  const robust = new Uint8Array(n);
  for (let i = 0; i < n; i++) robust[i] = ranked[i]?.[0] === labels[i] ? 1 : 0;

  for (let t = 0; t < count; t++) {
    for (let r = 0; r < spec.restarts; r++) {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (robust[i]) idx.push(i);
      if (idx.length === 0) return adv;
      const xs = gatherRows(x, idx);
      const ys = gatherRows(y, idx);
      const targets = tf.tensor1d(
        Int32Array.from(idx.map((i) => ranked[i]?.[t + 1] as number)),
        'int32',
      );
      try {
        const run = fabRun(model, xs, ys, targets, spec.eps, spec.steps, r > 0, rng);
        // Fooled = misclassified within eps (fab_pt.py perturb); re-checked on the returned images.
        const pred = tf.tidy(() => model.apply(run.adv, { training: false }).logits);
        const classes = argMaxArray(pred);
        pred.dispose();
        const from = new Int32Array(n).fill(-1);
        idx.forEach((i, j) => {
          if (run.fooled[j] && classes[j] !== labels[i]) {
            from[i] = j;
            robust[i] = 0;
          }
        });
        adv = replace(adv, scatterRows(adv, run.adv, from));
        run.adv.dispose();
      } finally {
        tf.dispose([xs, ys, targets]);
      }
    }
  }
  return adv;
};
