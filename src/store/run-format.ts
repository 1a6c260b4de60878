/**
 * The on-disk format of a run: runs/<runId>/run.json (config, status, checkpoint, generations; lowdb,
 * replaced atomically at status changes and generation boundaries) and runs/<runId>/evaluations.jsonl
 * (one EvaluationRecord per line, appended and fsynced after every evaluation).
 */
import { z } from 'zod';
import type { EvaluationRecord, GenerationSummary, RunStatus } from '../core/events.js';
import type { RngState } from '../core/rng.js';
import type { SearchConfig } from '../core/search-config.js';

export const RUN_FORMAT = 'robust-nas-run';
export const RUN_FORMAT_VERSION = 1;
export const RUN_FILE = 'run.json';
export const EVALUATIONS_FILE = 'evaluations.jsonl';

export const RUN_STATUSES = [
  'created',
  'running',
  'paused',
  'stopped',
  'interrupted',
  'completed',
  'failed',
] as const satisfies readonly RunStatus[];

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

const indexList = z.array(z.number().int().min(0));

export const runFileSchema = z.object({
  format: z.literal(RUN_FORMAT),
  formatVersion: z.number().int().min(1),
  id: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: z.enum(RUN_STATUSES),
  pid: z.number().int().optional(),
  host: z.string().optional(),
  message: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  checkpoint: z.object({
    generation: z.number().int().min(0),
    rngState: z.object({
      i: z.number().int(),
      j: z.number().int(),
      S: z.array(z.number().int()).length(256),
    }),
    evaluationsAtStart: z.number().int().min(0),
    population: indexList,
    rank: z.array(z.number().int().min(0)).optional(),
    crowding: z.array(z.number().nullable()).optional(),
    reference: z.array(z.number()).optional(),
  }),
  generations: z.array(
    z.object({
      generation: z.number().int().min(0),
      population: indexList,
      front: indexList,
      hypervolume: z.number(),
      evaluations: z.number().int().min(0),
    }),
  ),
});

const edgeSchema = z.tuple([z.string(), z.number().int().min(0)]);

export const evaluationRecordSchema = z.object({
  index: z.number().int().min(0),
  generation: z.number().int().min(0),
  genotype: z.object({
    normal: z.array(edgeSchema),
    normal_concat: z.array(z.number().int()),
    reduce: z.array(edgeSchema),
    reduce_concat: z.array(z.number().int()),
  }),
  hash: z.string(),
  status: z.enum(['finished', 'failed']),
  scores: z.record(z.string(), z.unknown()).optional(),
  objectives: z.array(z.number()).optional(),
  failure: z.string().optional(),
  cached: z.boolean(),
  seed: z.number().int().optional(),
  startedAt: z.string(),
  finishedAt: z.string(),
});

/** An evaluation record as stored (the shared record plus the evaluation seed). */
export type StoredEvaluation = EvaluationRecord & { readonly seed?: number };
