/**
 * A queue worker (`robust-nas worker`): takes evaluation jobs from the BullMQ queue on Redis and
 * evaluates them, on any machine that reaches that Redis.
 *
 * - Evaluations run in worker threads (the local pool, evaluation-worker.ts), never in this thread,
 *   so BullMQ's lock renewal here keeps its beat however long training takes; the lock lasts
 *   `lockDurationMs` (default 60 s) and is renewed every half of that. A worker that dies (SIGKILL,
 *   a machine lost) stops renewing: its job goes back to the queue for another worker after the
 *   lock expires, and after `maxStalledCount` such deaths the job fails with BullMQ's reason.
 * - Each job is checked with zod first: a malformed job, or one of another format version, fails
 *   with the reason (no retry) and the worker carries on.
 * - A candidate's own failure (NaN loss, out of memory) is the job's result, not an error. Any
 *   other error (a data set missing on this machine, a crashed backend) fails this try; BullMQ
 *   retries the job (on this worker or another) up to its attempts.
 * - Cancellation: a coordinator's cancel (a Redis key plus a pub/sub message) aborts the evaluation
 *   at once (its thread is terminated) and fails the job as cancelled.
 * - close('hand-back') (SIGTERM): stops taking jobs, aborts the evaluations in flight and puts their
 *   jobs back in the queue for another worker; close('finish') waits for them instead.
 * - A heartbeat (a Redis key with a TTL) says who this worker is and what it evaluates.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { genotypeHash } from '../core/canonical.js';
import { EvaluationFailure } from '../core/evaluation.js';
import { MAX_TASKS_PER_WORKER, type WorkerTask } from '../core/workers.js';
import type { RedisTarget } from '../core/redis-url.js';
import { createPoolEvaluator, type PoolEvaluator } from '../placement/worker-pool.js';
import {
  atMost,
  closeClient,
  redisClient,
  redisTarget,
  RedisHealth,
  type Report,
} from './connection.js';
import {
  CANCELLED_REASON,
  DEFAULT_QUEUE_NAME,
  encodeFailure,
  encodeResult,
  parseEvaluationJob,
  type JobResult,
} from './job.js';
import {
  DEFAULT_PREFIX,
  HEARTBEAT_EVERY_MS,
  HEARTBEAT_TTL_SECONDS,
  cancelChannel,
  cancelKey,
  workerKey,
  type QueueNames,
  type QueueWorkerInfo,
} from './keys.js';

export interface QueueWorkerOptions {
  readonly url: string | RedisTarget;
  readonly queueName?: string;
  readonly prefix?: string;
  /** Evaluations at once (one worker thread each; default 1). */
  readonly concurrency?: number;
  /** Shown in logs and heartbeats (default: host:pid). */
  readonly name?: string;
  /** BullMQ's job lock (default 60 s, renewed every half). */
  readonly lockDurationMs?: number;
  /** How often stalled jobs are looked for (default: the lock duration, at most 30 s). */
  readonly stalledIntervalMs?: number;
  /** Deaths of a worker on one job before the job fails (default 2: the third death fails it). */
  readonly maxStalledCount?: number;
  /** Connection trouble (one line each). */
  readonly report?: Report;
  /** What the worker does (a job taken, finished, failed...; one line each). */
  readonly log?: (line: string) => void;
  /** The pool's worker module (default: the built evaluation worker). */
  readonly workerFile?: string;
  readonly version?: string;
}

export type CloseMode = 'hand-back' | 'finish';

export interface QueueWorker {
  readonly id: string;
  readonly name: string;
  /** Jobs being evaluated now. */
  current(): string[];
  /** Stops (see the file comment); idempotent. */
  close(mode?: CloseMode): Promise<void>;
}

/** The abort reason that tells a job's processor to hand the job back rather than fail it. */
const HAND_BACK = 'robust-nas: worker shutting down';

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const target = redisTarget(options.url);
  const names: QueueNames = {
    prefix: options.prefix ?? DEFAULT_PREFIX,
    queueName: options.queueName ?? DEFAULT_QUEUE_NAME,
  };
  const concurrency = options.concurrency ?? 1;
  const id = randomBytes(6).toString('hex');
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const report = options.report ?? (() => {});
  const log = options.log ?? (() => {});
  const lockDuration = options.lockDurationMs ?? 60_000;
  const health = new RedisHealth(target, report);

  const pool: PoolEvaluator = createPoolEvaluator({
    size: concurrency,
    ...(options.workerFile ? { filename: options.workerFile } : {}),
  });
  const clients: Redis[] = [];
  const client = (role: string) => {
    const c = redisClient(health, { name: `robust-nas-worker-${role}` });
    clients.push(c);
    return c;
  };
  const control = client('control');
  const subscriber = client('cancel');

  const current = new Set<string>();
  /** What each job in `current` is, for the heartbeat. */
  const tasks = new Map<string, WorkerTask>();
  let finished = 0;
  let backend: string | undefined;
  const startedAt = new Date().toISOString();
  const info = (): QueueWorkerInfo => ({
    id,
    name,
    host: hostname(),
    pid: process.pid,
    concurrency,
    jobs: [...current].slice(0, MAX_TASKS_PER_WORKER),
    tasks: [...tasks.values()].slice(0, MAX_TASKS_PER_WORKER),
    finished,
    ...(backend ? { backend } : {}),
    version: options.version ?? '0.1.0',
    startedAt,
    lastSeen: new Date().toISOString(),
  });
  const beat = () =>
    control.set(workerKey(names, id), JSON.stringify(info()), 'EX', HEARTBEAT_TTL_SECONDS).then(
      () => {},
      () => {},
    );

  const processor = async (job: Job, token: string | undefined, signal?: AbortSignal) => {
    const jobId = job.id ?? '?';
    const parsed = parseEvaluationJob(job.data);
    if ('problem' in parsed) {
      log(`job ${jobId} refused: ${parsed.problem}`);
      throw new UnrecoverableError(parsed.problem);
    }
    if ((await control.exists(cancelKey(names, jobId))) > 0) {
      log(`job ${jobId} was cancelled by its coordinator before it started`);
      throw new UnrecoverableError(CANCELLED_REASON);
    }
    current.add(jobId);
    tasks.set(jobId, {
      runId: parsed.runId,
      index: parsed.index,
      hash: genotypeHash(parsed.genotype),
      startedAt: new Date().toISOString(),
    });
    void beat();
    const started = performance.now();
    log(
      `job ${jobId} started (run ${parsed.runId}, evaluation ${parsed.index}, try ${job.attemptsMade + 1})`,
    );
    let lastPhase = '';
    let lastSent = 0;
    try {
      const result = await pool.evaluate(
        parsed.genotype,
        parsed.config,
        parsed.seed,
        (p) => {
          const task = tasks.get(jobId);
          if (task) {
            tasks.set(jobId, {
              ...task,
              progress: { phase: p.phase, done: p.done, total: p.total },
            });
          }
          const now = performance.now();
          if (p.phase === lastPhase && now - lastSent < 500 && p.done < p.total) return;
          lastPhase = p.phase;
          lastSent = now;
          job.updateProgress({ phase: p.phase, done: p.done, total: p.total }).catch(() => {});
        },
        { keepWeights: parsed.keepWeights, ...(signal ? { signal } : {}) },
      );
      const answer: JobResult = encodeResult(result, name);
      backend = result.scores.backend;
      finished += 1;
      log(`job ${jobId} finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return answer;
    } catch (err) {
      if (signal?.aborted) {
        if (signal.reason === HAND_BACK && token) {
          await job.moveToWait(token);
          log(`job ${jobId} handed back to the queue`);
          throw new WaitingError();
        }
        log(`job ${jobId} cancelled by its coordinator`);
        throw new UnrecoverableError(CANCELLED_REASON);
      }
      if (err instanceof EvaluationFailure) {
        finished += 1;
        log(`job ${jobId}: the candidate failed: ${err.message}`);
        return encodeFailure(err, name);
      }
      log(`job ${jobId} failed on try ${job.attemptsMade + 1}: ${messageOf(err)}`);
      throw err instanceof Error ? err : new Error(String(err));
    } finally {
      current.delete(jobId);
      tasks.delete(jobId);
      void beat();
    }
  };

  let worker: Worker | undefined;
  try {
    // Threads and backends loaded before the first job is taken.
    await pool.warm();
    await health.waitReady(control, 24 * 3600 * 1000);
    worker = new Worker(names.queueName, processor, {
      connection: client('jobs'),
      prefix: names.prefix,
      concurrency,
      lockDuration,
      stalledInterval: options.stalledIntervalMs ?? Math.min(lockDuration, 30_000),
      maxStalledCount: options.maxStalledCount ?? 2,
      name,
    });
    worker.on('error', (err) => health.failed(err));
    await worker.waitUntilReady();
    subscriber.on('message', (channel: string, jobId: string) => {
      if (channel === cancelChannel(names) && current.has(jobId)) {
        worker?.cancelJob(jobId, 'cancelled');
      }
    });
    await subscriber.subscribe(cancelChannel(names));
  } catch (err) {
    await worker?.close(true).catch(() => {});
    await Promise.allSettled(clients.map(closeClient));
    await pool.close();
    throw err;
  }
  const w = worker;
  await beat();
  const heartbeat = setInterval(() => void beat(), HEARTBEAT_EVERY_MS);
  heartbeat.unref();

  let closing: Promise<void> | undefined;
  return {
    id,
    name,
    current: () => [...current],
    close(mode: CloseMode = 'hand-back') {
      closing ??= (async () => {
        clearInterval(heartbeat);
        const stopping = w
          .close()
          .catch((err: unknown) => report(`closing the worker: ${messageOf(err)}`));
        if (mode === 'hand-back') w.cancelAllJobs(HAND_BACK);
        // Without Redis nothing can be handed back or finished: give up after a while (the
        // jobs' locks expire and other workers take them).
        await atMost(stopping, mode === 'hand-back' ? 10_000 : 24 * 3600_000);
        await atMost(control.del(workerKey(names, id)), 1000);
        await Promise.allSettled(clients.map(closeClient));
        await pool.close();
      })();
      return closing;
    },
  };
}
