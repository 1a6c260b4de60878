/**
 * The typed events a search publishes. The CLI and the server consume only these (and the
 * records on disk); they never reach into the search's internals.
 */
import type { Genotype } from './genotype.js';
import type { Scores } from './evaluation.js';

export type RunStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'stopped' // stopped by the user; resumable
  | 'interrupted' // the process died or was signalled mid-run; resumable
  | 'completed'
  | 'failed';

/** One finished (or failed) evaluation, as stored on disk and sent to clients. */
export interface EvaluationRecord {
  /** Position in the run's evaluation sequence, from 0. */
  readonly index: number;
  readonly generation: number;
  readonly genotype: Genotype;
  /** Canonical genotype hash (see canonical form). */
  readonly hash: string;
  readonly status: 'finished' | 'failed';
  readonly scores?: Scores;
  /** Objective values in the run's objective order (raw, not sign-flipped); absent when failed. */
  readonly objectives?: readonly number[];
  readonly failure?: string;
  /** True when the scores came from the evaluation cache (same genotype hash and config). */
  readonly cached: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface GenerationSummary {
  readonly generation: number;
  /** Evaluation indices of the surviving population. */
  readonly population: readonly number[];
  /** Evaluation indices of the current Pareto front (non-dominated among all evaluated so far). */
  readonly front: readonly number[];
  readonly hypervolume: number;
  /** Evaluations finished so far in the run. */
  readonly evaluations: number;
}

export type SearchEvent =
  | {
      readonly type: 'run-status';
      readonly runId: string;
      readonly status: RunStatus;
      readonly generation: number;
      readonly message?: string;
    }
  | {
      readonly type: 'evaluation-started';
      readonly runId: string;
      readonly index: number;
      readonly generation: number;
      /** Position within the current generation's batch, and its size. */
      readonly inGeneration: { readonly done: number; readonly total: number };
      readonly genotype: Genotype;
      readonly hash: string;
    }
  | {
      readonly type: 'evaluation-progress';
      readonly runId: string;
      readonly index: number;
      readonly phase: 'data' | 'train' | 'attack';
      readonly done: number;
      readonly total: number;
    }
  | {
      readonly type: 'evaluation-finished';
      readonly runId: string;
      readonly evaluation: EvaluationRecord;
    }
  | {
      readonly type: 'evaluation-failed';
      readonly runId: string;
      readonly evaluation: EvaluationRecord;
    }
  | ({ readonly type: 'generation-finished'; readonly runId: string } & GenerationSummary);

export type SearchEventType = SearchEvent['type'];
export type SearchEventListener = (event: SearchEvent) => void;
