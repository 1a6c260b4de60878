/** The attacks by name (AttackName in src/core/evaluation.ts), all with the same call shape. */
import type { AttackName } from '../../core/evaluation.js';
import { apgdCe } from './apgd-ce.js';
import { fgsm } from './fgsm.js';
import { pgd } from './pgd.js';
import { rfgsm } from './rfgsm.js';
import { stepll } from './stepll.js';
import type { Attack } from './types.js';

export type { Attack, Classifier } from './types.js';

export const ATTACK_REGISTRY: Readonly<Record<AttackName, Attack>> = {
  fgsm,
  rfgsm,
  stepll,
  pgd,
  'apgd-ce': apgdCe,
};

export function getAttack(name: AttackName): Attack {
  return ATTACK_REGISTRY[name];
}
