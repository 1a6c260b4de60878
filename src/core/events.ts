/**
 * The typed events a search publishes. The CLI and the server consume only these (and the
 * records on disk); they never reach into the search's internals.
 */
import type { Genotype } from './genotype.js';
import type { EvaluationRecord, GenerationSummary } from './records.js';
import type { RunStatus } from './run-status.js';

export type { EvaluationRecord, GenerationSummary, RunStatus };

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
