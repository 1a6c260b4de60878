/**
 * A worst-case attack suite, counted as AutoAttack counts (auto-attack's `autoattack/autoattack.py`,
 * `run_standard_evaluation`): an image starts robust when the model classifies it correctly, each
 * attack in turn runs only on the images still robust (in batches of at most `batchSize`, AutoAttack's
 * `bs=250`), and an image it fools is no longer robust. The robust accuracy after the last attack is
 * the worst case per image over the suite; after each attack it is what AutoAttack prints as
 * "robust accuracy after <ATTACK>".
 *
 * The suite is "AutoAttack" only when APGD-CE, APGD-T, FAB-T and Square all ran at AutoAttack's
 * standard settings (autoattack.py `set_version('standard')`); {@link autoAttackVerdict} says why
 * a suite is not.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  AUTOATTACK_STANDARD,
  attackSpecSchema,
  type AccuracyEstimate,
  type AttackName,
  type AttackSpec,
  type AttackSpecInput,
} from '../../core/evaluation.js';
import type { Rng } from '../../core/rng.js';
import { accuracyEstimate } from '../metrics.js';
import { argMaxArray, gatherRows } from './apgd.js';
import { targetCount } from './apgd-t.js';
import { attackBudget, getAttack } from './index.js';
import type { Classifier } from './types.js';

/** An attack of the suite and its budget (defaults as the spec's); the suite's eps applies to all. */
export type SuiteAttack = Omit<AttackSpecInput, 'eps'>;

/** Printed names. */
const LABEL: Readonly<Record<AttackName, string>> = {
  fgsm: 'FGSM',
  rfgsm: 'R-FGSM',
  stepll: 'Step-LL',
  pgd: 'PGD',
  'apgd-ce': 'APGD-CE',
  'apgd-t': 'APGD-T',
  square: 'Square',
  'fab-t': 'FAB-T',
};

/** AutoAttack's standard L-infinity evaluation: its attacks, in its order, at its budgets. */
export function strongSuite(): SuiteAttack[] {
  const { apgdIterations, targets, squareQueries, restarts } = AUTOATTACK_STANDARD;
  return [
    { name: 'apgd-ce', steps: apgdIterations, restarts },
    { name: 'apgd-t', steps: apgdIterations, targets, restarts },
    { name: 'fab-t', steps: apgdIterations, targets, restarts },
    { name: 'square', queries: squareQueries, restarts },
  ];
}

/** The suite AutoAttack's standard version runs, by name (autoattack.py `attacks_to_run`). */
export const AUTOATTACK_ATTACKS: readonly AttackName[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

/** Whether `spec` ran at AutoAttack's standard settings (on a model with `classes` classes). */
function isStandard(spec: AttackSpec, classes: number): boolean {
  const { apgdIterations, targets, squareQueries, restarts } = AUTOATTACK_STANDARD;
  if (spec.restarts !== restarts) return false;
  switch (spec.name) {
    case 'apgd-ce':
      return spec.steps === apgdIterations;
    case 'apgd-t':
    case 'fab-t':
      return spec.steps === apgdIterations && targetCount(spec, classes) === targets;
    case 'square':
      return (spec.queries ?? squareQueries) === squareQueries;
    default:
      return false;
  }
}

/**
 * Whether a suite counts as AutoAttack (standard, L-infinity): APGD-CE, APGD-T, FAB-T and Square
 * all ran at AutoAttack's settings; else the reason it does not.
 */
export function autoAttackVerdict(
  specs: readonly AttackSpec[],
  classes: number,
): { autoAttack: boolean; reason: string } {
  const missing: string[] = [];
  const nonStandard: string[] = [];
  for (const name of AUTOATTACK_ATTACKS) {
    const runs = specs.filter((s) => s.name === name);
    if (runs.length === 0) missing.push(LABEL[name]);
    else if (!runs.some((s) => isStandard(s, classes))) nonStandard.push(LABEL[name]);
  }
  const reasons: string[] = [];
  if (missing.length > 0) {
    reasons.push(`${missing.join(', ')} did not run`);
  }
  if (nonStandard.length > 0) {
    reasons.push(`${nonStandard.join(', ')} below AutoAttack's standard budget`);
  }
  return reasons.length === 0
    ? { autoAttack: true, reason: "AutoAttack's standard L-inf attacks at its standard settings" }
    : { autoAttack: false, reason: `not AutoAttack: ${reasons.join('; ')}` };
}

/** "APGD-T (100 iterations, 9 targets, 1 restart)". */
export function describeAttack(spec: AttackSpec, classes?: number): string {
  const b = attackBudget(spec);
  const parts: string[] = [];
  if (b.steps !== undefined) parts.push(`${b.steps} iterations`);
  if (b.targets !== undefined) {
    const used = classes === undefined ? b.targets : targetCount(spec, classes);
    parts.push(`${used} target${used === 1 ? '' : 's'}`);
  }
  if (b.queries !== undefined) parts.push(`${b.queries} queries`);
  if (spec.name !== 'fgsm' && spec.name !== 'stepll') {
    parts.push(`${spec.restarts} restart${spec.restarts === 1 ? '' : 's'}`);
  }
  return `${LABEL[spec.name]}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

export interface SuiteAttackResult {
  readonly attack: AttackName;
  /** The spec it ran with (eps, budget), parsed: every default filled in. */
  readonly spec: AttackSpec;
  /** Iterations / targets / queries, as in a score. */
  readonly budget: { steps?: number; targets?: number; queries?: number; restarts: number };
  /** How many images it attacked (those still robust before it). */
  readonly attacked: number;
  /** How many of those it fooled. */
  readonly fooled: number;
  /** Robust accuracy after this attack and every one before it (out of all n images). */
  readonly robustAfter: AccuracyEstimate;
}

export interface SuiteResult {
  readonly eps: number;
  readonly clean: AccuracyEstimate;
  /** One entry per attack, in the order they ran. */
  readonly attacks: readonly SuiteAttackResult[];
  /** Worst case per image over the suite: robust only if right clean and under every attack. */
  readonly robust: AccuracyEstimate;
  /** Per image: 1 when it survived every attack. */
  readonly robustImages: Uint8Array;
  /** True only when APGD-CE, APGD-T, FAB-T and Square all ran at AutoAttack's standard settings. */
  readonly autoAttack: boolean;
  /** Which attacks ran with their budgets, the eps, and whether it counts as AutoAttack. */
  readonly description: string;
}

export interface SuiteProgress {
  /** Index of the attack in the suite, and its name. */
  readonly attackIndex: number;
  readonly attack: AttackName;
  /** Batches of this attack done and to do. */
  readonly done: number;
  readonly total: number;
  /** Images still robust. */
  readonly robust: number;
}

export interface SuiteOptions {
  /** The attacks, in order (default {@link strongSuite}: AutoAttack's standard version). */
  readonly attacks?: readonly SuiteAttack[];
  /** Images per attack call (default AutoAttack's 250). */
  readonly batchSize?: number;
  readonly onProgress?: (p: SuiteProgress) => void;
  /** Stops between batches (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs the suite on images `x` (in [0, 1], [n, h, w, c]) with labels `y` at L-infinity budget
 * `eps`, all randomness from `rng`. The caller keeps (and disposes) `x` and `y`; nothing else is
 * left behind. Deterministic for (model, x, y, eps, rng state, options).
 */
export async function runAttackSuite(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  eps: number,
  rng: Rng,
  options: SuiteOptions = {},
): Promise<SuiteResult> {
  const n = x.shape[0];
  if (y.shape[0] !== n) {
    throw new RangeError(`attack suite: ${n} images but ${y.shape[0]} labels`);
  }
  const batchSize = options.batchSize ?? 250;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`attack suite: batch size must be a positive integer, got ${batchSize}`);
  }
  const specs = (options.attacks ?? strongSuite()).map((a, i) => {
    const r = attackSpecSchema.safeParse({ ...a, eps });
    if (!r.success) {
      throw new RangeError(
        `attack suite: attack ${i} (${String(a.name)}): ${r.error.issues.map((e) => `${e.path.join('.') || 'spec'}: ${e.message}`).join('; ')}`,
      );
    }
    return r.data;
  });
  if (specs.length === 0) throw new RangeError('attack suite: give at least one attack');

  const labels = y.dataSync();
  const robust = new Uint8Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const pred = tf.tidy(
      () =>
        model.apply(tf.slice(x, [start, 0, 0, 0], [end - start, -1, -1, -1]), { training: false })
          .logits,
    );
    const classes = argMaxArray(pred);
    pred.dispose();
    for (let i = start; i < end; i++) robust[i] = classes[i - start] === labels[i] ? 1 : 0;
  }
  const count = (): number => robust.reduce((s, v) => s + v, 0);
  const clean = accuracyEstimate(count(), n);

  const results: SuiteAttackResult[] = [];
  for (const [attackIndex, spec] of specs.entries()) {
    const attack = getAttack(spec.name);
    const todo: number[] = [];
    for (let i = 0; i < n; i++) if (robust[i]) todo.push(i);
    const total = Math.ceil(todo.length / batchSize);
    let fooled = 0;
    options.onProgress?.({ attackIndex, attack: spec.name, done: 0, total, robust: todo.length });
    for (let b = 0; b < total; b++) {
      options.signal?.throwIfAborted();
      const idx = todo.slice(b * batchSize, (b + 1) * batchSize);
      const xb = gatherRows(x, idx);
      const yb = gatherRows(y, idx);
      try {
        const adv = attack(model, xb, yb, spec, rng);
        const pred = tf.tidy(() => model.apply(adv, { training: false }).logits);
        adv.dispose();
        const classes = argMaxArray(pred);
        pred.dispose();
        idx.forEach((i, j) => {
          if (classes[j] !== labels[i]) {
            robust[i] = 0;
            fooled++;
          }
        });
      } finally {
        tf.dispose([xb, yb]);
      }
      options.onProgress?.({ attackIndex, attack: spec.name, done: b + 1, total, robust: count() });
      await nextTick();
    }
    results.push({
      attack: spec.name,
      spec,
      budget: { ...attackBudget(spec), restarts: spec.restarts },
      attacked: todo.length,
      fooled,
      robustAfter: accuracyEstimate(count(), n),
    });
  }
  const verdict = autoAttackVerdict(specs, model.numClasses);
  const robustEstimate = accuracyEstimate(count(), n);
  const description =
    `worst case per image over ${specs.map((s) => describeAttack(s, model.numClasses)).join(', ')}` +
    ` at L-inf eps ${eps} on ${n} images: ${verdict.reason}`;
  return {
    eps,
    clean,
    attacks: results,
    robust: robustEstimate,
    robustImages: Uint8Array.from(robust),
    autoAttack: verdict.autoAttack,
    description,
  };
}
