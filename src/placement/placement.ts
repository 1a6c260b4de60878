/**
 * The placement layer's one door: where an evaluation runs. In this process one at a time, in a
 * local pool of worker threads (`workers`), or as jobs on a BullMQ queue in Redis (`queue`) that
 * `robust-nas worker` processes take on any machine. The search (runner), the server, the study,
 * `noise` and `validate` all open their evaluator here ({@link openEvaluator}); no other folder
 * creates a pool, a worker thread or process, or a queue (a lint rule in eslint.config.js says so).
 * Every placement runs every kind of evaluation task (src/core/evaluation-task.ts: a genotype, a
 * baseline, an ensemble) with `run`, the search's genotypes with `evaluate`; the results do not
 * depend on the placement.
 *
 * Commands evaluate on every core unless told otherwise ({@link everyCore}: a pool of
 * availableParallelism() workers; `--workers 1` for one).
 *
 * One crash policy (worker-pool.ts, queue-evaluator.ts): a worker that dies on a task is replaced
 * and the task tried again; a task that killed its worker as many times as allowed rejects with a
 * plain error naming the last one, a fault of the environment: runs pause with the reason (exit
 * {@link ENVIRONMENT_EXIT_CODE}), nothing is stored as the candidate failing.
 */
import { availableParallelism } from 'node:os';
import { isUserDataset, type Evaluate } from '../core/evaluation.js';
import {
  genotypeTask,
  singleGenotype,
  type EvaluationTask,
  type RunTask,
} from '../core/evaluation-task.js';
import { InputError } from '../core/errors.js';
import { parseRedisUrl, type RedisTarget } from '../core/redis-url.js';
import type { SearchConfig } from '../core/search-config.js';
import { datasetSpec } from '../evaluator/datasets/registry.js';
import { dartsNetworkSize } from '../evaluator/memory-estimate.js';
import { loadRealEvaluator } from './load-real-evaluator.js';
import type { WorkersReport } from '../core/workers.js';
import { createPoolEvaluator, type PoolUsage } from './worker-pool.js';
import type { Report } from './connection.js';
import { createQueueEvaluator, type QueueEvaluatorOptions } from './queue-evaluator.js';
import { inProcessWorkers } from './in-process-workers.js';

/**
 * The exit code of a command whose run paused, or whose study stopped, on a fault of the
 * environment (a worker that kept dying, Redis gone, a full disk): EX_TEMPFAIL, "try again later".
 */
export const ENVIRONMENT_EXIT_CODE = 75;

/** Where evaluations run; at most one of the two (neither: in this process, one at a time). */
export interface Placement {
  /** A local pool of this many workers. */
  readonly workers?: number;
  /** The queue on this Redis. */
  readonly queue?: string | RedisTarget;
}

/** The commands' default placement: a local pool with one worker per core. */
export function everyCore(): Placement {
  return { workers: availableParallelism() };
}

/** An evaluator opened for one run, with how many evaluations the run should keep in flight. */
export interface RunEvaluator {
  /** Where: this process, a local pool, the queue. */
  readonly placement: 'in-process' | 'pool' | 'queue';
  /** Runs any evaluation task (a genotype, a baseline, an ensemble). */
  readonly run: RunTask;
  /** The search's form: one DARTS genotype. */
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

/** `run` as the search's Evaluate (one genotype per task). */
export function evaluateOf(run: RunTask): Evaluate {
  return (genotype, config, seed, onProgress, options) =>
    run(genotypeTask(genotype, config, seed, options?.keepWeights ?? false), onProgress, options);
}

/**
 * A RunTask from an evaluator of genotypes only (the surrogate, a test's evaluator): it runs tasks
 * that are one DARTS network and refuses the others with an InputError.
 */
export function runOf(evaluate: Evaluate): RunTask {
  return (task, onProgress, options) => {
    const genotype = singleGenotype(task);
    if (!genotype) {
      return Promise.reject(
        new InputError('this evaluator evaluates DARTS genotypes only (no baselines or ensembles)'),
      );
    }
    return evaluate(genotype, task.config, task.seed, onProgress, {
      ...options,
      keepWeights: task.keepWeights,
    });
  };
}

/**
 * `run` with at most `slots` evaluations running at once; the others wait here, the one expected
 * to take longest first ({@link taskCost}; ties in the order they came), so that a generation
 * does not end with one long evaluation on one worker while the others idle (an aborted one leaves
 * the line at once). A run may so keep its whole generation in flight on a pool of fewer workers:
 * none waits behind a slow candidate, and the pool's own queue (bounded) never overflows. The
 * order changes nothing stored: the runner stores results in index order.
 */
export function limitConcurrency(
  run: RunTask,
  slots: number,
): RunTask & { readonly waiting: () => number } {
  let free = slots;
  let arrivals = 0;
  const line: { go: () => void; cost: number; arrival: number }[] = [];
  const limited: RunTask = async (task, onProgress, options) => {
    const signal = options?.signal;
    signal?.throwIfAborted();
    if (free > 0) {
      free -= 1;
    } else {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          go: () => {
            signal?.removeEventListener('abort', leave);
            resolve();
          },
          cost: costOf(task),
          arrival: arrivals++,
        };
        const leave = () => {
          const at = line.indexOf(entry);
          if (at >= 0) line.splice(at, 1);
          reject(signal!.reason);
        };
        // Longest expected first; equal costs in arrival order.
        let at = line.findIndex((e) => e.cost < entry.cost);
        if (at < 0) at = line.length;
        line.splice(at, 0, entry);
        signal?.addEventListener('abort', leave, { once: true });
      });
    }
    try {
      return await run(task, onProgress, options);
    } finally {
      // Hand the slot to the next in line, or free it.
      const next = line.shift();
      if (next) next.go();
      else free += 1;
    }
  };
  return Object.assign(limited, { waiting: () => line.length });
}

/**
 * The expected cost of a task, to start the longest first: the multiply-adds of its networks' forward
 * pass (exact, counted without building anything: memory-estimate.ts). The tasks of one generation
 * share their config, so training and attack cost scale with it. A baseline counts as larger than
 * any cell network (the study's baselines are scaled to the median cell network's parameters, but
 * their MACs are not counted here); a network that cannot be built costs 0 (it fails at once).
 */
export function taskCost(task: EvaluationTask): number {
  // The user's own data: its geometry is known once loaded; these tasks start in arrival order.
  if (isUserDataset(task.config.dataset)) return 0;
  let spec: ReturnType<typeof datasetSpec>;
  try {
    spec = datasetSpec(task.config.dataset);
  } catch {
    return 0;
  }
  const geometry = {
    channels: task.config.channels,
    layers: task.config.layers,
    numClasses: spec.numClasses,
    inputShape: [...spec.shape] as [number, number, number],
  };
  return task.members.reduce((sum, m) => {
    if (!('genotype' in m)) return sum + Number.MAX_SAFE_INTEGER / 64;
    try {
      return sum + dartsNetworkSize(m.genotype, geometry).macs;
    } catch {
      return sum;
    }
  }, 0);
}

function costOf(task: EvaluationTask): number {
  return taskCost(task);
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

/**
 * The placement given on the command line, else the one in the run's config, else every core
 * ({@link everyCore}).
 */
export function placementOf(
  config: Pick<SearchConfig, 'workers' | 'queue'> | undefined,
  flags: Placement = {},
): Placement {
  if (flags.workers !== undefined && flags.queue !== undefined) {
    throw new InputError('give either --workers (a local pool) or --queue (Redis), not both');
  }
  if (flags.workers !== undefined) return { workers: flags.workers };
  if (flags.queue !== undefined) return { queue: flags.queue };
  if (config?.workers !== undefined) return { workers: config.workers };
  if (config?.queue !== undefined) return { queue: config.queue };
  return everyCore();
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
      placement: 'queue',
      run: queue.run,
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
    const backends = [...new Set(pool.status().flatMap((w) => (w.backend ? [w.backend] : [])))];
    if (backends.length > 0) report(`the workers run the ${backends.join(', ')} backend`);
    const description = `evaluations run in ${pool.size} worker thread${pool.size === 1 ? '' : 's'}`;
    const limited = limitConcurrency(pool.run, pool.size);
    return {
      placement: 'pool',
      run: limited,
      evaluate: evaluateOf(limited),
      concurrency: Math.max(pool.size, options.generationSize ?? 1),
      description,
      workers: async () => poolReport(pool, description, limited.waiting()),
      usage: () => pool.usage(),
      close: () => pool.close(),
    };
  }
  return inProcessTaskEvaluator(
    (await loadRealEvaluator(report)).run,
    'evaluations run in this process, one at a time',
  );
}

/** A genotype evaluator (the surrogate, a test's) in this process, one at a time. */
export function inProcessEvaluator(evaluate: Evaluate, description: string): RunEvaluator {
  return inProcessTaskEvaluator(runOf(evaluate), description);
}

/** `run` in this process, one at a time, reported as one worker. */
export function inProcessTaskEvaluator(run: RunTask, description: string): RunEvaluator {
  const tracked = inProcessWorkers(run);
  return {
    placement: 'in-process',
    run: tracked.run,
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
  return openEvaluator(placement, { ...options, generationSize: generationSizeOf(config) });
}

/** At most how many evaluations a generation of `config` asks for (first seeds, re-evaluations). */
export function generationSizeOf(config: SearchConfig): number {
  const { initialSeeds, maxSeeds } = config.resampling;
  return (
    Math.max(config.population, config.offspring) * initialSeeds +
    (maxSeeds > initialSeeds ? config.population : 0)
  );
}
