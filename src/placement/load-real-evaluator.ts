/**
 * Loads the real (tfjs) evaluator on first use. Nothing here imports tfjs statically, so a caller
 * that never asks for the real evaluator (a surrogate search, the server's API) never loads it.
 */
import type { Evaluate } from '../core/evaluation.js';
import type { RunTask } from '../core/evaluation-task.js';

/**
 * Initialises the fastest backend (or the one ROBUST_NAS_BACKEND forces), tells `announce` which
 * one was chosen, and returns `runEvaluationTask` (every kind of task) and `evaluateGenotype`.
 */
export async function loadRealEvaluator(
  announce?: (line: string) => void,
): Promise<{ readonly run: RunTask; readonly evaluate: Evaluate }> {
  const [{ evaluateGenotype, runEvaluationTask }, { initBackend, describeBackend }] =
    await Promise.all([import('../evaluator/evaluate.js'), import('../evaluator/backend.js')]);
  const info = await initBackend();
  announce?.(describeBackend(info));
  return {
    run: (task, onProgress) => runEvaluationTask(task, onProgress),
    evaluate: evaluateGenotype,
  };
}

/** {@link loadRealEvaluator}'s `evaluateGenotype` (the search's form). */
export async function loadRealEvaluate(announce?: (line: string) => void): Promise<Evaluate> {
  return (await loadRealEvaluator(announce)).evaluate;
}
