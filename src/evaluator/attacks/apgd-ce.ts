/**
 * APGD-CE (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks"), L-infinity, cross-entropy loss, as in auto-attack / torchattacks:
 * the APGD iteration of ./apgd.ts on the cross-entropy; restarts attack only the images still
 * classified correctly (autopgd_base.py `APGDAttack.perturb`: `ind_to_fool = acc.nonzero()`).
 * Returns, per image, an adversarial example when one was found, else the clean image.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AttackSpec } from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { apgdRun, replace, select } from './apgd.js';
import { predict } from './gradient.js';
import type { Attack } from './types.js';

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
