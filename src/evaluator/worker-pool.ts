/**
 * The local pool of evaluation workers: an {@link Evaluate} that runs each real evaluation in a
 * worker thread of a piscina pool (one thread per core by default), so a search evaluates as many
 * candidates at once as there are workers and the calling thread (the server's API and live feed,
 * the CLI's progress bars) never blocks on training.
 *
 * Cancellation: an aborted signal makes piscina terminate the thread running the evaluation, which
 * frees its core at once; the pool starts a fresh thread for the next task. A thread whose backend
 * aborted exits after answering (see evaluation-worker.ts) and is replaced the same way.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { InputError } from '../core/errors.js';
import { EvaluationFailure, type EvalProgress, type Evaluate } from '../core/evaluation.js';
import type { EvaluationTask, EvaluationTaskResult } from './evaluation-worker.js';

/**
 * The compiled worker module: next to this file in dist/, or dist's copy when this module runs from
 * the TypeScript sources (tests), or undefined when neither exists (not built).
 */
export function evaluationWorkerFile(): string | undefined {
  const candidates = [
    new URL('./evaluation-worker.js', import.meta.url),
    new URL('../../dist/evaluator/evaluation-worker.js', import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  return undefined;
}

export interface PoolOptions {
  /** Worker threads (default: the number of cores). */
  readonly size?: number;
  /** The worker module (default: evaluationWorkerFile()). */
  readonly filename?: string;
}

export interface PoolEvaluator {
  readonly evaluate: Evaluate;
  readonly size: number;
  /** Evaluations running or waiting. */
  pending(): number;
  /** Stops every worker (evaluations in flight reject). */
  close(): Promise<void>;
}

/** An error of a worker that says nothing about the candidate (it died, it was stopped). */
export class WorkerLostError extends Error {
  override name = 'WorkerLostError';
}

function fromTaskError(r: Extract<EvaluationTaskResult, { ok: false }>): Error {
  if (r.name === 'EvaluationFailure') return new EvaluationFailure(r.message);
  if (r.name === 'InputError') return new InputError(r.message);
  const message = r.fatal
    ? `${r.message}; its worker thread was replaced by a fresh one for the next evaluation`
    : r.message;
  const e = new Error(message) as NodeJS.ErrnoException;
  e.name = r.name;
  if (r.code) e.code = r.code;
  return e;
}

export function createPoolEvaluator(options: PoolOptions = {}): PoolEvaluator {
  const size = options.size ?? availableParallelism();
  if (!Number.isInteger(size) || size < 1) {
    throw new InputError(`the number of workers must be a positive integer, got ${size}`);
  }
  const filename = options.filename ?? evaluationWorkerFile();
  if (!filename) {
    throw new Error('the evaluation worker is not built: run npm run build');
  }
  const makePool = () =>
    new Piscina({
      filename,
      minThreads: 0,
      maxThreads: size,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      // Waiting evaluations are bounded by the caller (one per candidate of a generation).
      maxQueue: 'auto',
    });
  let pool = makePool();
  const retiring = new Set<Promise<void>>();
  /**
   * A thread whose backend crashed must take no further task, but piscina may hand it one before it
   * exits: new tasks go to a fresh pool, and the old one closes once its other tasks are done.
   */
  const replacePool = () => {
    const old = pool;
    pool = makePool();
    const closing = old.close().catch(() => {});
    retiring.add(closing);
    void closing.finally(() => retiring.delete(closing));
  };

  let running = 0;
  const evaluate: Evaluate = async (genotype, config, seed, onProgress, opts) => {
    running += 1;
    const { port1, port2 } = new MessageChannel();
    if (onProgress) port1.on('message', (p: EvalProgress) => onProgress(p));
    const task: EvaluationTask = {
      genotype,
      config,
      seed,
      keepWeights: opts?.keepWeights ?? false,
      progress: port2,
    };
    let answer: EvaluationTaskResult;
    try {
      answer = (await pool.run(task, {
        transferList: [port2],
        ...(opts?.signal ? { signal: opts.signal } : {}),
      })) as EvaluationTaskResult;
    } catch (err) {
      if (opts?.signal?.aborted) throw err; // the caller's own abort
      const message = err instanceof Error ? err.message : String(err);
      throw new WorkerLostError(`the evaluation worker was lost: ${message}`);
    } finally {
      port1.close();
      running -= 1;
    }
    if (!answer.ok) {
      if (answer.fatal) replacePool();
      throw fromTaskError(answer);
    }
    return answer.result;
  };

  return {
    evaluate,
    size,
    pending: () => running,
    close: async () => {
      await Promise.all([pool.destroy(), ...retiring]);
    },
  };
}
