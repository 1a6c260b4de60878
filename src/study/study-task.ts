/**
 * One evaluation of a study as plain data (what crosses to a worker thread), and running it: build
 * and train one network, or load the trained members of an ensemble, then attack on the test split
 * (src/evaluator/evaluate.ts, the same evaluation as `robust-nas evaluate`).
 */
import type { EvalConfig, EvalProgress, EvaluationResult } from '../core/evaluation.js';
import type { ArchitectureSpec } from '../evaluator/architecture.js';
import { runEvaluation } from '../evaluator/evaluate.js';

export interface StudyTask {
  /** One network, or the members of an ensemble. */
  readonly members: readonly ArchitectureSpec[];
  readonly config: EvalConfig;
  readonly seed: number;
  /** Return the trained weights (one network). */
  readonly keepWeights: boolean;
  /** Ensembles: one weights file per member, loaded instead of training. */
  readonly weightFiles?: readonly string[];
}

export async function runStudyTask(
  task: StudyTask,
  onProgress?: (p: EvalProgress) => void,
): Promise<EvaluationResult> {
  const report = await runEvaluation({
    members: task.members,
    combine: 'logits',
    config: task.config,
    seed: task.seed,
    ...(onProgress ? { onProgress } : {}),
    ...(task.keepWeights ? { keepWeights: true } : {}),
    ...(task.weightFiles ? { loadWeightsFrom: task.weightFiles } : {}),
  });
  return { scores: report.scores, ...(report.weights ? { weights: report.weights } : {}) };
}
