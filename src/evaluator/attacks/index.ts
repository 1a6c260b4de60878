/** The attacks by name (AttackName in src/core/evaluation.ts), all with the same call shape. */
import { AUTOATTACK_STANDARD, type AttackName, type AttackSpec } from '../../core/evaluation.js';
import { apgdCe } from './apgd-ce.js';
import { apgdT } from './apgd-t.js';
import { fabT } from './fab-t.js';
import { fgsm } from './fgsm.js';
import { pgd } from './pgd.js';
import { rfgsm } from './rfgsm.js';
import { square } from './square.js';
import { stepll } from './stepll.js';
import type { Attack } from './types.js';

export type { Attack, Classifier } from './types.js';

export const ATTACK_REGISTRY: Readonly<Record<AttackName, Attack>> = {
  fgsm,
  rfgsm,
  stepll,
  pgd,
  'apgd-ce': apgdCe,
  'apgd-t': apgdT,
  'fab-t': fabT,
  square,
};

export function getAttack(name: AttackName): Attack {
  return ATTACK_REGISTRY[name];
}

/**
 * The budget an attack ran with, as its score reports it: iterations for PGD and APGD, plus the
 * target count for APGD-T and FAB-T (before capping at classes - 1), queries for Square.
 */
export function attackBudget(spec: AttackSpec): {
  steps?: number;
  targets?: number;
  queries?: number;
} {
  switch (spec.name) {
    case 'pgd':
    case 'apgd-ce':
      return { steps: spec.steps };
    case 'apgd-t':
    case 'fab-t':
      return { steps: spec.steps, targets: spec.targets ?? AUTOATTACK_STANDARD.targets };
    case 'square':
      return { queries: spec.queries ?? AUTOATTACK_STANDARD.squareQueries };
    default:
      return {};
  }
}
