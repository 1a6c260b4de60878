/**
 * Square Attack (Andriushchenko, Croce, Flammarion & Hein 2020, "Square Attack: a query-efficient
 * black-box adversarial attack via random search"), L-infinity, margin loss: score-based, it only
 * reads the model's logits (no gradient). Checked against auto-attack's `autoattack/square.py`
 * (fra31/auto-attack), `SquareAttack.attack_single_run`, norm 'Linf':
 * - start: vertical stripes, x + eps * s with one random sign s per image, column and channel
 *   (`random_choice([n, c, 1, w])`), clamped to [0, 1];
 * - loss: the margin z_y - max_{j != y} z_j (`margin_and_loss`, loss 'margin'); an image is fooled
 *   once its margin is <= 0, and only images with margin > 0 are queried again
 *   (`idx_to_fool = (margin_min > 0.0)`);
 * - each query: a square window of side s = max(round(sqrt(p * h * w)), 1) at a random position
 *   (`vh = random_int(0, h - s)`, so in [0, h - s - 1], likewise vw) and a random sign per channel
 *   (`random_choice([c, 1, 1])`), both shared by the batch; the window of the current best point
 *   is moved by 2 eps times that sign, projected to the eps-ball and [0, 1]; the new point replaces
 *   the best one where the margin fell or the image became misclassified;
 * - p follows `p_selection`: p_init = 0.8 halved after iterations 10, 50, 200, 500, 1000, 2000, 4000,
 *   6000 and 8000. AutoAttack's standard evaluation runs 5000 queries with that schedule unscaled
 *   (autoattack.py: `SquareAttack(..., p_init=.8, n_queries=5000, ..., resc_schedule=False)`);
 *   for another budget the iteration is rescaled to 5000 queries (as `resc_schedule` rescales it to
 *   10000), so the squares shrink at the same fractions of the budget as in AutoAttack's standard
 *   run (down to p_init / 128; the 6000 and 8000 stages are never reached, as there);
 * - restarts (`perturb`): each attacks only the images still classified correctly.
 * Budget: `spec.queries` per restart (default AutoAttack's 5000), plus one query for the start;
 * `spec.restarts` (default 1). All randomness comes from the caller's Rng.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AUTOATTACK_STANDARD, type AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { gatherRows, replace, scatterRows } from './apgd.js';
import type { Attack, Classifier } from './types.js';

/** AutoAttack's initial fraction of pixels a square covers. */
export const SQUARE_P_INIT = 0.8;

/** The iterations (on AutoAttack's 5000-query scale) after which p halves again. */
const P_THRESHOLDS = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000] as const;

/**
 * The fraction p of pixels a square covers at iteration `it` (0-based) of `nQueries`, `p_selection`
 * of square.py with the iteration rescaled to AutoAttack's standard 5000 queries (identity there).
 */
export function squarePSelection(it: number, nQueries: number, pInit = SQUARE_P_INIT): number {
  const scaled = Math.floor((it * AUTOATTACK_STANDARD.squareQueries) / nQueries);
  let halvings = 0;
  for (const threshold of P_THRESHOLDS) if (scaled > threshold) halvings++;
  return pInit / 2 ** halvings;
}

/** The side of the square at fraction p on an h x w image (`max(int(round(sqrt(p * n_features / c))), 1)`). */
export function squareSide(p: number, h: number, w: number): number {
  return Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), 1), h, w);
}

/** Margin z_y - max_{j != y} z_j per image, from logits read as plain numbers (no gradient). */
function margins(model: Classifier, x: tf.Tensor4D, labels: ArrayLike<number>): Float32Array {
  const logits = tf.tidy(() => model.apply(x, { training: false }).logits);
  const [n, classes] = logits.shape;
  const z = logits.dataSync();
  logits.dispose();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    let other = -Infinity;
    for (let j = 0; j < classes; j++) {
      if (j !== y) other = Math.max(other, z[i * classes + j] as number);
    }
    out[i] = (z[i * classes + y] as number) - other;
  }
  return out;
}

/** A uniform integer in [lo, hi) as torch's `random_int(lo, hi)` (lo when hi <= lo). */
function randomInt(rng: Rng, lo: number, hi: number): number {
  return hi <= lo ? lo : lo + Math.floor(rng.next() * (hi - lo));
}

interface SquareRunResult {
  readonly adv: tf.Tensor4D;
  /** 1 where the margin reached <= 0. */
  readonly fooled: Uint8Array;
}

/**
 * One run on every image of `x`. The search works on plain arrays (a candidate differs from the
 * best point only inside one window); the model sees one batch of the images still unfooled per
 * query.
 */
function squareRun(
  model: Classifier,
  x: tf.Tensor4D,
  labels: Int32Array,
  eps: number,
  nQueries: number,
  rng: Rng,
): SquareRunResult {
  const [n, h, w, c] = x.shape;
  const size = h * w * c;
  const clean = x.dataSync() as Float32Array;
  const best = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    for (let col = 0; col < w; col++) {
      for (let ch = 0; ch < c; ch++) {
        const sign = rng.bool() ? eps : -eps;
        for (let r = 0; r < h; r++) {
          const at = i * size + (r * w + col) * c + ch;
          best[at] = Math.min(Math.max((clean[at] as number) + sign, 0), 1);
        }
      }
    }
  }
  const query = (data: Float32Array, count: number, rows: ArrayLike<number>): Float32Array => {
    const images = tf.tensor4d(data.subarray(0, count * size), [count, h, w, c]);
    try {
      return margins(model, images, rows);
    } finally {
      images.dispose();
    }
  };
  const marginMin = query(best, n, labels);
  const candidates = new Float32Array(n * size);

  for (let it = 0; it < nQueries; it++) {
    const active: number[] = [];
    for (let i = 0; i < n; i++) if ((marginMin[i] as number) > 0) active.push(i);
    if (active.length === 0) break;
    const s = squareSide(squarePSelection(it, nQueries), h, w);
    const vh = randomInt(rng, 0, h - s);
    const vw = randomInt(rng, 0, w - s);
    const signs = Array.from({ length: c }, () => (rng.bool() ? 2 * eps : -2 * eps));
    active.forEach((i, j) => {
      const from = i * size;
      const to = j * size;
      candidates.set(best.subarray(from, from + size), to);
      for (let r = vh; r < vh + s; r++) {
        for (let col = vw; col < vw + s; col++) {
          for (let ch = 0; ch < c; ch++) {
            const k = (r * w + col) * c + ch;
            const x0 = clean[from + k] as number;
            const moved = (best[from + k] as number) + (signs[ch] as number);
            const projected = Math.min(Math.max(moved, x0 - eps), x0 + eps);
            candidates[to + k] = Math.min(Math.max(projected, 0), 1);
          }
        }
      }
    });
    const margin = query(
      candidates,
      active.length,
      active.map((i) => labels[i] as number),
    );
    active.forEach((i, j) => {
      const m = margin[j] as number;
      // loss = margin: improved when it fell; a misclassified point is taken in any case.
      if (m < (marginMin[i] as number) || m <= 0) {
        marginMin[i] = m;
        best.set(candidates.subarray(j * size, (j + 1) * size), i * size);
      }
    });
  }
  const fooled = new Uint8Array(n);
  for (let i = 0; i < n; i++) fooled[i] = (marginMin[i] as number) <= 0 ? 1 : 0;
  return { adv: tf.tensor4d(best, [n, h, w, c]), fooled };
}

export const square: Attack = (model, x, y, spec: AttackSpec, rng: Rng) => {
  let adv = tf.clone(x);
  if (spec.eps === 0) return adv;
  const n = x.shape[0];
  const labels = Int32Array.from(y.dataSync());
  const nQueries = spec.queries ?? AUTOATTACK_STANDARD.squareQueries;
  const clean = margins(model, x, labels);
  const robust = new Uint8Array(n);
  for (let i = 0; i < n; i++) robust[i] = (clean[i] as number) > 0 ? 1 : 0;
  for (let r = 0; r < spec.restarts; r++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (robust[i]) idx.push(i);
    if (idx.length === 0) break;
    const xs = gatherRows(x, idx);
    const run = squareRun(
      model,
      xs,
      Int32Array.from(idx.map((i) => labels[i] as number)),
      spec.eps,
      nQueries,
      rng,
    );
    xs.dispose();
    const from = new Int32Array(n).fill(-1);
    idx.forEach((i, j) => {
      if (run.fooled[j]) {
        from[i] = j;
        robust[i] = 0;
      }
    });
    adv = replace(adv, scatterRows(adv, run.adv, from));
    run.adv.dispose();
  }
  return adv;
};
