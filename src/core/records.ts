/**
 * What a run stores, as plain data: its evaluation records, generation summaries, the checkpoint a
 * resumed run continues from, and the run file that holds them (see src/store/ for the formats on
 * disk). Shared by the runner that writes them, storage, the server and the dashboard that read them.
 */
import type { Genotype } from './genotype.js';
import type { Scores } from './evaluation.js';
import { Rng, type RngState } from './rng.js';
import type { RunStatus } from './run-status.js';
import type { SearchConfig } from './search-config.js';

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
  /**
   * Which of its genotype's seeds this evaluation is (0 for the first; absent in runs stored before
   * repeated evaluation: 0). The candidate is the genotype (`hash`): its objectives are the means
   * over its seeds (see src/core/candidates.ts).
   */
  readonly seedIndex?: number;
  /** True when the scores came from the evaluation cache (same genotype hash, config and seed index). */
  readonly cached: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface GenerationSummary {
  readonly generation: number;
  /** Evaluation indices of the surviving population. */
  readonly population: readonly number[];
  /**
   * The current Pareto front: the candidates (genotypes) no other dominates on the means over their
   * seeds, among all evaluated so far, each by the index of its first finished evaluation.
   */
  readonly front: readonly number[];
  readonly hypervolume: number;
  /** Evaluations finished so far in the run. */
  readonly evaluations: number;
}

/** An evaluation record as stored (the shared record plus the evaluation seed). */
export type StoredEvaluation = EvaluationRecord & { readonly seed?: number };

/** Where a run stands between generations: everything needed to regenerate the current one. */
export interface Checkpoint {
  /** The generation in progress (= generations finished). */
  readonly generation: number;
  /** RNG state at the start of that generation; its candidates are drawn from it. */
  readonly rngState: RngState;
  /** Evaluations stored before the generation started (its candidates get the next indices). */
  readonly evaluationsAtStart: number;
  /** Evaluation indices of the population entering the generation. */
  readonly population: readonly number[];
  /** Pareto rank of each population member (aligned with `population`), from its survival. */
  readonly rank?: readonly number[];
  /** Crowding distance of each population member; null stands for infinity (JSON has none). */
  readonly crowding?: readonly (number | null)[];
  /** Hypervolume reference point, fixed once the initial population is evaluated. */
  readonly reference?: readonly number[];
}

/** What a run file says it is, and the newest version of its format this code reads and writes. */
export const RUN_FORMAT = 'robust-nas-run';
export const RUN_FORMAT_VERSION = 1;

export interface RunFile {
  readonly format: typeof RUN_FORMAT;
  readonly formatVersion: number;
  readonly id: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly status: RunStatus;
  /** Process running the search while status is 'running' (the lock). */
  readonly pid?: number;
  readonly host?: string;
  /** Why the run failed or stopped, when known. */
  readonly message?: string;
  readonly config: SearchConfig;
  readonly checkpoint: Checkpoint;
  readonly generations: readonly GenerationSummary[];
}

/** The run file of a new run (status 'created'): generation 0 starts from the config's seed. */
export function newRunFile(id: string, config: SearchConfig, now = new Date()): RunFile {
  const at = now.toISOString();
  return {
    format: RUN_FORMAT,
    formatVersion: RUN_FORMAT_VERSION,
    id,
    createdAt: at,
    updatedAt: at,
    status: 'created',
    config,
    checkpoint: {
      generation: 0,
      rngState: Rng.fromSeed(config.seed).state(),
      evaluationsAtStart: 0,
      population: [],
    },
    generations: [],
  };
}
