/**
 * APGD-T (Croce & Hein 2020): APGD (./apgd.ts) on the targeted DLR loss (./dlr.ts), one run per
 * target class, as auto-attack's `autoattack/autopgd_base.py` `APGDAttack_targeted.perturb`:
 * - targets: for target_class = 2 .. n_target_classes + 1 the class whose clean logit ranks
 *   target_class-th (`y_target = output.sort(dim=1)[1][:, -target_class]`), i.e. the most likely
 *   other classes in order for an image the model classifies correctly; AutoAttack's standard
 *   evaluation uses 9 (`apgd_targeted.n_target_classes = 9`, autoattack.py `set_version`);
 * - each target (and each of `n_restarts` restarts, 1 in the standard evaluation) attacks only the
 *   images still classified correctly (`ind_to_fool = acc.nonzero()`), and an image fooled keeps
 *   the adversarial example found (`adv[ind_to_fool[ind_curr]] = adv_curr[ind_curr]`);
 * - success is untargeted: the prediction differs from the true label (`acc = pred == y`).
 * Budget: `spec.steps` iterations per run (default AutoAttack's 100), `spec.targets` target classes
 * (default 9, at most classes - 1), `spec.restarts` runs per target (default 1).
 */
import * as tf from '@tensorflow/tfjs-core';
import { AUTOATTACK_STANDARD, type AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { apgdRun, gatherRows, replace, scatterRows } from './apgd.js';
import { dlrTargetedLoss } from './dlr.js';
import type { Attack, Classifier } from './types.js';

/** How many target classes APGD-T uses for `spec` on a model with `classes` classes. */
export function targetCount(spec: Pick<AttackSpec, 'targets'>, classes: number): number {
  return Math.min(spec.targets ?? AUTOATTACK_STANDARD.targets, classes - 1);
}

/** Per image, the classes ranked 2nd, 3rd, ... by clean logit (`count` of them), and the prediction. */
function rankedClasses(
  model: Classifier,
  x: tf.Tensor4D,
  count: number,
): { predicted: Int32Array; others: Int32Array[] } {
  const top = tf.tidy(
    () => tf.topk(model.apply(x, { training: false }).logits, count + 1, true).indices,
  );
  const rows = top.arraySync() as number[][];
  top.dispose();
  return {
    predicted: Int32Array.from(rows.map((r) => r[0] as number)),
    others: Array.from({ length: count }, (_, t) =>
      Int32Array.from(rows.map((r) => r[t + 1] as number)),
    ),
  };
}

export const apgdT: Attack = (model, x, y, spec: AttackSpec, rng: Rng) => {
  let adv = tf.clone(x);
  if (spec.eps === 0) return adv;
  const classes = model.numClasses;
  if (classes < 4) {
    adv.dispose();
    throw new RangeError(
      `APGD-T needs at least 4 classes (its DLR loss uses the 4th largest logit); the model has ${classes}`,
    );
  }
  const n = x.shape[0];
  const labels = y.dataSync();
  const count = targetCount(spec, classes);
  const { predicted, others } = rankedClasses(model, x, count);
  const robust = new Uint8Array(n);
  for (let i = 0; i < n; i++) robust[i] = predicted[i] === labels[i] ? 1 : 0;

  for (let t = 0; t < count; t++) {
    const ranked = others[t] as Int32Array;
    for (let r = 0; r < spec.restarts; r++) {
      const idx: number[] = [];
      for (let i = 0; i < n; i++) if (robust[i]) idx.push(i);
      if (idx.length === 0) return adv;
      const seed = rng.seed32();
      const xs = gatherRows(x, idx);
      const ys = gatherRows(y, idx);
      const targets = tf.tensor1d(Int32Array.from(idx.map((i) => ranked[i] as number)), 'int32');
      try {
        const run = apgdRun(model, xs, ys, spec.eps, spec.steps, seed, (logits, l) =>
          dlrTargetedLoss(logits, l, targets),
        );
        const from = new Int32Array(n).fill(-1);
        idx.forEach((i, j) => {
          if (run.fooled[j]) {
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
