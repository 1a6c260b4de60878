/**
 * `validate --suite strong`: the run's own attack, then AutoAttack's standard L-infinity suite
 * (APGD-CE, APGD-T, FAB-T, Square at AutoAttack's budgets: src/evaluator/attacks/suite.ts), each on
 * the images still robust, at the run's first attack's eps. Keeping the run's attack first makes the
 * worst case never above the run's own robust accuracy on the same images.
 */
import { evalConfigSchema, type EvalConfig } from '../core/evaluation.js';
import { strongSuite } from '../evaluator/attacks/suite.js';

export interface StrongSuiteOptions {
  /** Square's queries (default AutoAttack's 5000; fewer is cheaper and no longer "AutoAttack"). */
  readonly squareQueries?: number;
  /** APGD-T and FAB-T target classes (default AutoAttack's 9). */
  readonly targets?: number;
}

/** `config` with the strong suite added (Scores.worstCase then carries its figure). */
export function strongSuiteConfig(
  config: EvalConfig,
  options: StrongSuiteOptions = {},
): EvalConfig {
  const suite = strongSuite().map((a) => ({
    ...a,
    ...(a.name === 'square' && options.squareQueries !== undefined
      ? { queries: options.squareQueries }
      : {}),
    ...((a.name === 'apgd-t' || a.name === 'fab-t') && options.targets !== undefined
      ? { targets: options.targets }
      : {}),
  }));
  return evalConfigSchema.parse({ ...config, suite });
}
