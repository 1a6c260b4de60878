/**
 * Where a run's evaluations happen, chosen per run: in the searching process one at a time (the
 * default), in a local pool of worker threads (`workers`), or as jobs on a BullMQ queue in Redis
 * (`queue`) that `robust-nas worker` processes take on any machine. All three are the same
 * {@link Evaluate}; the stored run does not depend on the choice.
 */
import type { Evaluate } from '../core/evaluation.js';
import { InputError } from '../core/errors.js';
import { parseRedisUrl, type RedisTarget } from '../core/redis-url.js';
import type { SearchConfig } from '../core/search-config.js';
import { loadRealEvaluate } from '../placement/load-real-evaluator.js';
import type { WorkersReport } from '../core/workers.js';
import { createPoolEvaluator, type PoolUsage } from '../placement/worker-pool.js';
import type { Report } from './connection.js';
import { createQueueEvaluator, type QueueEvaluatorOptions } from './queue-evaluator.js';
import { inProcessWorkers } from './in-process-workers.js';

/** Where evaluations run; at most one of the two. */
export interface Placement {
  /** A local pool of this many worker threads. */
  readonly workers?: number;
  /** The queue on this Redis. */
  readonly queue?: string | RedisTarget;
}

/** An evaluator opened for one run, with how many evaluations the run should keep in flight. */
export interface RunEvaluator {
  readonly evaluate: Evaluate;
  readonly concurrency: number;
  /** One line saying where evaluations run (the Redis URL masked). */
  readonly description: string;
  /** The workers, what each evaluates, and the evaluations waiting for one. */
  workers(): Promise<WorkersReport>;
  /** A local pool's busy time per thread (for the benchmarks). */
  usage?(): PoolUsage;
  close(): Promise<void>;
}

/**
 * `evaluate` with at most `slots` evaluations running at once; the others wait here, in the order
 * they came (an aborted one leaves the line at once). So a run may keep its whole generation in
 * flight on a pool of fewer workers: none waits behind a slow candidate, and the pool's own queue
 * (bounded) never overflows.
 */
export function limitConcurrency(
  evaluate: Evaluate,
  slots: number,
): Evaluate & { readonly waiting: () => number } {
  let free = slots;
  const line: (() => void)[] = [];
  const limited: Evaluate = async (genotype, config, seed, onProgress, options) => {
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (free > 0) {
      free -= 1;
    } else {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        };
        const leave = () => {
          const at = line.indexOf(go);
          if (at >= 0) line.splice(at, 1);
          reject(signal!.reason);
        };
        line.push(go);
        signal?.addEventListener('abort', leave, { once: true });
      });
    }
    try {
      return await evaluate(genotype, config, seed, onProgress, options);
    } finally {
      // Hand the slot to the next in line, or free it.
      const next = line.shift();
      if (next) next();
      else free += 1;
    }
  };
  return Object.assign(limited, { waiting: () => line.length });
}

/** The report of a local pool: its threads, and the evaluations handed to it not yet started. */
export function poolReport(
  pool: { status(): WorkersReport['workers']; waiting(): number },
  description: string,
  queuedBefore = 0,
): WorkersReport {
  const workers = pool.status();
  return {
    placement: 'pool',
    description,
    workers,
    waiting: pool.waiting() + queuedBefore,
    active: workers.reduce((n, w) => n + w.busy.length, 0),
    at: new Date().toISOString(),
  };
}

/** The placement given on the command line, else the one in the run's config. */
export function placementOf(config: SearchConfig, flags: Placement = {}): Placement {
  if (flags.workers !== undefined && flags.queue !== undefined) {
    throw new InputError('give either --workers (a local pool) or --queue (Redis), not both');
  }
  if (flags.workers !== undefined) return { workers: flags.workers };
  if (flags.queue !== undefined) return { queue: flags.queue };
  if (config.workers !== undefined) return { workers: config.workers };
  if (config.queue !== undefined) return { queue: config.queue };
  return {};
}

export interface OpenOptions {
  /** Lines about the backend and about Redis's reachability. */
  readonly report?: Report;
  /** The pool's worker module (default: the built evaluation worker next to this module). */
  readonly workerFile?: string;
  /** Passed to the queue evaluator (timeouts, queue name). */
  readonly queue?: Omit<QueueEvaluatorOptions, 'url' | 'report'>;
}

/**
 * The real evaluator placed as `placement`. `concurrency` is how many evaluations a run keeps in
 * flight: one in this process; for the queue and the pool, `generationSize` (a run passes the size
 * of its generations), so that every free worker finds a candidate to take: the runner stores
 * results in index order, and with no more in flight than workers, a slow candidate would hold up
 * the workers that finished theirs (the pool queues the rest in this process).
 */
export async function openEvaluator(
  placement: Placement,
  options: OpenOptions & { readonly generationSize?: number } = {},
): Promise<RunEvaluator> {
  const report = options.report ?? (() => {});
  if (placement.queue !== undefined) {
    const target =
      typeof placement.queue === 'string' ? parseRedisUrl(placement.queue) : placement.queue;
    const queue = await createQueueEvaluator({ ...options.queue, url: target, report });
    const workers = await queue.workers().catch(() => []);
    const description = `evaluations go to queue ${queue.queueName} on ${target.masked}`;
    return {
      evaluate: queue.evaluate,
      concurrency: options.generationSize ?? 1,
      description: `${description} (${workers.length} worker${workers.length === 1 ? '' : 's'} connected now)`,
      workers: () => queue.report(description),
      close: () => queue.close(),
    };
  }
  if (placement.workers !== undefined) {
    const pool = createPoolEvaluator({
      size: placement.workers,
      ...(options.workerFile ? { filename: options.workerFile } : {}),
    });
    // Threads and backends are loaded now, not while the first generation waits.
    await pool.warm();
    const description = `evaluations run in ${pool.size} worker thread${pool.size === 1 ? '' : 's'}`;
    const limited = limitConcurrency(pool.evaluate, pool.size);
    return {
      evaluate: limited,
      concurrency: Math.max(pool.size, options.generationSize ?? 1),
      description,
      workers: async () => poolReport(pool, description, limited.waiting()),
      usage: () => pool.usage(),
      close: () => pool.close(),
    };
  }
  return inProcessEvaluator(
    await loadRealEvaluate(report),
    'evaluations run in this process, one at a time',
  );
}

/** `evaluate` run in this process, one at a time, reported as one worker. */
export function inProcessEvaluator(evaluate: Evaluate, description: string): RunEvaluator {
  const tracked = inProcessWorkers(evaluate);
  return {
    evaluate: tracked.evaluate,
    concurrency: 1,
    description,
    workers: async () => tracked.report(description),
    close: async () => {},
  };
}

/**
 * The evaluator of a run with `config` placed as `placement`; undefined for a surrogate run (the
 * runner uses the built-in surrogate, in its own process).
 */
export async function openRunEvaluator(
  config: SearchConfig,
  placement: Placement,
  options: OpenOptions = {},
): Promise<RunEvaluator | undefined> {
  if (config.evaluator !== 'real') return undefined;
  return openEvaluator(placement, {
    ...options,
    generationSize: Math.max(config.population, config.offspring),
  });
}
