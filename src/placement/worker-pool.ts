/**
 * The local pool of evaluation workers: an {@link Evaluate} that runs each real evaluation in a
 * worker thread of a piscina pool (one thread per core by default), so a search evaluates as many
 * candidates at once as there are workers and the calling thread (the server's API and live feed,
 * the CLI's progress bars) never blocks on training.
 *
 * Cancellation: an aborted signal makes piscina terminate the thread running the evaluation, which
 * frees its core at once; the pool starts a fresh thread for the next task. A thread whose backend
 * aborted exits after answering (see evaluation-worker.ts) and is replaced the same way.
 *
 * The pool keeps its threads (and their loaded backends) for its whole life: `warm()` starts them
 * and loads each one's backend ahead of the first evaluation. It tracks what each thread evaluates
 * (`status()`: run, index, genotype hash, since when, latest progress, when last heard from) and
 * how long each was busy (`usage()`, for the benchmarks).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { genotypeHash } from '../core/canonical.js';
import { InputError } from '../core/errors.js';
import { EvaluationFailure, type Evaluate } from '../core/evaluation.js';
import type { WorkerStatus, WorkerTask } from '../core/workers.js';
import type { EvaluationTask, EvaluationTaskResult, WorkerMessage } from './evaluation-worker.js';

/**
 * The compiled worker module: next to this file in dist/, or dist's copy when this module runs from
 * the TypeScript sources (tests), or undefined when neither exists (not built).
 */
export function evaluationWorkerFile(): string | undefined {
  const candidates = [
    new URL('./evaluation-worker.js', import.meta.url),
    new URL('../../dist/placement/evaluation-worker.js', import.meta.url),
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

/** How long each thread was busy, for measuring how well the pool is used. */
export interface PoolUsage {
  /** Per thread that ran evaluations: busy milliseconds and evaluations run. */
  readonly threads: readonly {
    readonly thread: number;
    readonly busyMs: number;
    readonly tasks: number;
  }[];
  /** The latest evaluations (at most {@link USAGE_INTERVALS}): thread, start and end (performance.now()). */
  readonly intervals: readonly {
    readonly thread: number;
    readonly start: number;
    readonly end: number;
  }[];
}

/** The pool remembers this many of its latest evaluations' intervals. */
export const USAGE_INTERVALS = 2000;

export interface PoolEvaluator {
  readonly evaluate: Evaluate;
  readonly size: number;
  /** Evaluations running or waiting. */
  pending(): number;
  /** Evaluations handed to the pool and not yet started by a thread. */
  waiting(): number;
  /** Starts every thread and loads its backend (errors are left for the evaluations to report). */
  warm(): Promise<void>;
  /** Each live thread: what it evaluates and when it was last heard from. */
  status(): WorkerStatus[];
  usage(): PoolUsage;
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
      // Threads (and their backends, slow to load) live as long as the pool.
      minThreads: size,
      maxThreads: size,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
      // Waiting evaluations are bounded by the caller (one per candidate of a generation).
      maxQueue: 'auto',
    });
  let pool = makePool();
  const retiring = new Set<Promise<void>>();
  const retired = new Set<Piscina>();
  /**
   * A thread whose backend crashed must take no further task, but piscina may hand it one before it
   * exits: new tasks go to a fresh pool, and the old one closes once its other tasks are done.
   */
  const replacePool = () => {
    const old = pool;
    pool = makePool();
    retired.add(old);
    const closing = old.close().catch(() => {});
    retiring.add(closing);
    void closing.finally(() => {
      retiring.delete(closing);
      retired.delete(old);
    });
  };

  /** Per thread id: what it runs, since when, and when it was last heard from. */
  interface ThreadState {
    lastSeen: number;
    finished: number;
    busyMs: number;
    task?: { info: WorkerTask; start: number };
    backend?: string;
  }
  const threads = new Map<number, ThreadState>();
  const threadState = (id: number): ThreadState => {
    let t = threads.get(id);
    if (!t) {
      // Threads come and go (an aborted evaluation's is replaced): forget those that left.
      if (threads.size >= 2 * size) forgetGone();
      t = { lastSeen: Date.now(), finished: 0, busyMs: 0 };
      threads.set(id, t);
    }
    return t;
  };
  const intervals: { thread: number; start: number; end: number }[] = [];

  let running = 0;
  let started = 0;
  const evaluate: Evaluate = async (genotype, config, seed, onProgress, opts) => {
    running += 1;
    const { port1, port2 } = new MessageChannel();
    let thread: ThreadState | undefined;
    let threadId = -1;
    const info: WorkerTask = {
      ...(opts?.job ? { runId: opts.job.runId, index: opts.job.index } : {}),
      hash: genotypeHash(genotype),
      startedAt: new Date().toISOString(),
    };
    port1.on('message', (m: WorkerMessage) => {
      if ('thread' in m) {
        threadId = m.thread;
        thread = threadState(m.thread);
        thread.task = {
          info: { ...info, startedAt: new Date().toISOString() },
          start: performance.now(),
        };
        thread.lastSeen = Date.now();
        started += 1;
        return;
      }
      if (thread?.task) {
        thread.lastSeen = Date.now();
        thread.task.info = {
          ...thread.task.info,
          progress: { phase: m.phase, done: m.done, total: m.total },
        };
      }
      onProgress?.(m);
    });
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
      if (thread?.task) {
        const end = performance.now();
        thread.busyMs += end - thread.task.start;
        thread.lastSeen = Date.now();
        intervals.push({ thread: threadId, start: thread.task.start, end });
        if (intervals.length > USAGE_INTERVALS) intervals.shift();
        thread.task = undefined;
        started -= 1;
      }
    }
    if (thread) {
      thread.finished += answer.ok || answer.name === 'EvaluationFailure' ? 1 : 0;
      if (answer.ok) thread.backend = answer.result.scores.backend;
    }
    if (!answer.ok) {
      if (answer.fatal) replacePool();
      throw fromTaskError(answer);
    }
    return answer.result;
  };

  function forgetGone(): void {
    const live = new Set([pool, ...retired].flatMap((p) => p.threads.map((w) => w.threadId)));
    for (const [id, t] of threads) if (!live.has(id) && !t.task) threads.delete(id);
  }

  return {
    evaluate,
    size,
    pending: () => running,
    waiting: () => Math.max(0, running - started),
    async warm() {
      // Every thread loads its backend; a warm thread answers at once, so asking each of `size`
      // at once reaches them all (piscina hands a task to an idle thread first).
      const seen = new Set<number>();
      for (let round = 0; round < 3 && seen.size < size; round++) {
        const answers = await Promise.allSettled(
          Array.from({ length: size }, () => pool.run({}, { name: 'warmUp' })),
        );
        for (const a of answers) {
          if (a.status !== 'fulfilled') return; // the evaluations will report it
          const { thread, backend } = a.value as { thread: number; backend: string };
          seen.add(thread);
          threadState(thread).backend = backend;
        }
      }
    },
    status() {
      forgetGone();
      return [...threads.entries()]
        .sort(([a], [b]) => a - b)
        .map(([id, t]) => ({
          id: `thread-${id}`,
          pid: process.pid,
          concurrency: 1,
          busy: t.task ? [t.task.info] : [],
          lastSeen: new Date(t.lastSeen).toISOString(),
          finished: t.finished,
          ...(t.backend ? { backend: t.backend } : {}),
        }));
    },
    usage() {
      return {
        threads: [...threads.entries()].map(([thread, t]) => ({
          thread,
          busyMs: Math.round(t.busyMs),
          tasks: t.finished,
        })),
        intervals: [...intervals],
      };
    },
    close: async () => {
      await Promise.all([pool.destroy(), ...retiring]);
    },
  };
}
