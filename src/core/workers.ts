/**
 * What the server says about the workers that evaluate its runs (`GET /api/workers`, the
 * dashboard's Workers panel, `robust-nas workers`): where evaluations run, each worker with what it
 * evaluates and when it was last heard from, and how many jobs wait for a worker. Plain data.
 */
import type { EvalProgress } from './evaluation.js';

/** Where a server's real evaluations run: its own thread, a local pool, or the Redis queue. */
export type WorkerPlacement = 'in-process' | 'pool' | 'queue';

/** One evaluation a worker is busy with. */
export interface WorkerTask {
  /** The run and evaluation index (absent for an evaluation outside a run). */
  readonly runId?: string;
  readonly index?: number;
  /** The genotype's canonical hash. */
  readonly hash: string;
  /** When the worker started it (ISO 8601). */
  readonly startedAt: string;
  /** Its latest progress, when the worker reported one. */
  readonly progress?: EvalProgress;
}

export interface WorkerStatus {
  /** A local pool's thread id, or a queue worker's id. */
  readonly id: string;
  /** A queue worker's name (default host:pid). */
  readonly name?: string;
  readonly host?: string;
  readonly pid?: number;
  /** Evaluations it runs at once. */
  readonly concurrency: number;
  readonly busy: readonly WorkerTask[];
  /** When it was last heard from (a progress message counts; ISO 8601). */
  readonly lastSeen: string;
  /** Evaluations it finished since it started. */
  readonly finished: number;
  readonly backend?: string;
}

export interface WorkersReport {
  readonly placement: WorkerPlacement;
  /** One line: where evaluations run (a Redis URL masked). */
  readonly description: string;
  readonly workers: readonly WorkerStatus[];
  /** Evaluations waiting for a worker (the queue's waiting jobs, or the pool's queue). */
  readonly waiting: number;
  /** Evaluations being computed now. */
  readonly active: number;
  /** When this report was made (ISO 8601). */
  readonly at: string;
}

/** At most this many workers are listed (a queue may hold more heartbeats). */
export const MAX_LISTED_WORKERS = 200;
/** At most this many tasks are listed per worker. */
export const MAX_TASKS_PER_WORKER = 64;

/** Seconds since `iso` at `now` (0 for a time in the future or unreadable). */
export function secondsSince(iso: string, now: number): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, (now - t) / 1000) : 0;
}
