/**
 * Loads the real (tfjs) evaluator on first use. Nothing here imports tfjs statically, so a caller
 * that never asks for the real evaluator (a surrogate search, the server's API) never loads it.
 */
import type { Evaluate } from '../core/evaluation.js';

/**
 * Initialises the fastest backend (or the one ROBUST_NAS_BACKEND forces), tells `announce` which
 * one was chosen, and returns `evaluateGenotype`.
 */
export async function loadRealEvaluate(announce?: (line: string) => void): Promise<Evaluate> {
  const [{ evaluateGenotype }, { initBackend, describeBackend }] = await Promise.all([
    import('../evaluator/evaluate.js'),
    import('../evaluator/backend.js'),
  ]);
  const info = await initBackend();
  announce?.(describeBackend(info));
  return evaluateGenotype;
}
