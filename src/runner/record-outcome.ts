/**
 * What the runner makes of an evaluator's answer: a stored record (finished with objectives, or
 * failed with the candidate's own reason), or an error of the environment that must not be
 * stored. Only the candidate's own failures (NaN loss, a network too big to build: the evaluator's
 * EvaluationFailure) and scores that give no finite objectives fail a candidate; anything else (a
 * full disk, a lost worker, a backend that aborted) says nothing about the architecture, so the run
 * pauses with the reason and the candidate is evaluated again on resume.
 */
import { EvaluationFailure, type Scores } from '../core/evaluation.js';
import { objectiveValues, type ObjectiveSpec } from '../core/objectives.js';
import type { StoredEvaluation } from '../core/records.js';

/** An error that stopped an evaluation for a reason outside the candidate; the run pauses on it. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

/** The fields of a record known before the evaluation runs. */
export type RecordBase = Pick<
  StoredEvaluation,
  'index' | 'generation' | 'genotype' | 'hash' | 'seed' | 'seedIndex' | 'startedAt'
>;

/** The stored record of an evaluation that returned scores. */
export function recordFromScores(
  base: RecordBase,
  objectives: readonly ObjectiveSpec[],
  scores: Scores,
): StoredEvaluation {
  const finishedAt = new Date().toISOString();
  let values: number[];
  try {
    values = objectiveValues(objectives, scores);
  } catch (err) {
    const failure = err instanceof Error ? err.message : String(err);
    return { ...base, status: 'failed', scores, failure, cached: false, finishedAt };
  }
  if (values.some((v) => !Number.isFinite(v))) {
    const failure = `non-finite objective values ${JSON.stringify(values)}`;
    return { ...base, status: 'failed', scores, failure, cached: false, finishedAt };
  }
  return { ...base, status: 'finished', scores, objectives: values, cached: false, finishedAt };
}

/**
 * The stored record of an evaluation that threw: a failed candidate for an EvaluationFailure;
 * otherwise an EnvironmentError to pause the run with.
 */
export function recordFromError(base: RecordBase, error: unknown): StoredEvaluation {
  if (error instanceof EvaluationFailure) {
    return {
      ...base,
      status: 'failed',
      failure: error.message,
      cached: false,
      finishedAt: new Date().toISOString(),
    };
  }
  throw environmentError(error);
}

/** `error` as an EnvironmentError whose message says what happened (with the errno code). */
export function environmentError(error: unknown): EnvironmentError {
  if (error instanceof EnvironmentError) return error;
  const e = error as NodeJS.ErrnoException;
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ` : '';
  return new EnvironmentError(`${code}${message}`, { cause: error });
}
