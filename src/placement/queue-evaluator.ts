/**
 * The queue evaluator: an {@link Evaluate} that sends each evaluation as a BullMQ job to Redis,
 * where workers on any machine (`robust-nas worker`) take it, and answers with the job's result.
 *
 * - Job ids are deterministic (`<runId>.<index>`), and a job's result is a pure function of its
 *   data: an evaluation whose job is already in Redis with the same data is not queued again. So a
 *   coordinator that was killed and resumed picks up the jobs still in flight or already finished
 *   instead of recomputing them.
 * - Progress comes through QueueEvents; the result is read from the job itself, and the job's state
 *   is also polled, so an event lost while Redis restarted delays nothing by more than a poll.
 * - Abort (pause, stop): a waiting job is removed, an active one is cancelled through a Redis key
 *   and a pub/sub message that its worker obeys at once (it terminates the evaluation's thread);
 *   evaluate() rejects at once either way, and the job is queued afresh if the run asks again.
 * - One coordinator per run and queue: the first evaluation of a run claims it in Redis (a key
 *   with a TTL this evaluator renews); a second coordinator of the same run id on the same queue
 *   (two runs folders, two machines) is refused with a CoordinatorConflictError naming the first
 *   (host, pid, start time) instead of both cancelling each other's jobs, whose ids collide.
 * - Each job carries the fingerprint of the data set as this process reads it
 *   (datasets/fingerprint.ts); a worker whose data differs refuses it.
 * - Every kind of evaluation task goes on the queue (`run`: a genotype, a baseline, an ensemble with
 *   its members' weights); `evaluate` is the search's form of it (one genotype).
 * - A candidate's own failure (NaN loss...) is the job's result: EvaluationFailure. Anything else
 *   rejects with a plain Error, a fault of the environment, and the run pauses with it: a job whose
 *   worker died on it more often than the workers allow (BullMQ's stalled limit: the placement
 *   layer's crash policy, never the candidate's failure; asked again on resume, it is queued
 *   afresh), a worker's environment that failed on every try, Redis unreachable for longer than
 *   `giveUpAfterMs`.
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  EvaluationFailure,
  type EvalProgress,
  type Evaluate,
  type EvaluationResult,
} from '../core/evaluation.js';
import type { RedisTarget } from '../core/redis-url.js';
import {
  MAX_LISTED_WORKERS,
  MAX_TASKS_PER_WORKER,
  type WorkerStatus,
  type WorkerTask,
  type WorkersReport,
} from '../core/workers.js';
import {
  atMost,
  closeClient,
  redisClient,
  redisTarget,
  RedisHealth,
  type Report,
} from './connection.js';
import { genotypeTask, type RunTask } from '../core/evaluation-task.js';
import {
  CANCELLED_REASON,
  DEFAULT_QUEUE_NAME,
  decodeResult,
  jobIdOf,
  jobOfTask,
  type EvaluationJob,
} from './job.js';
import { datasetFingerprint } from '../evaluator/datasets/fingerprint.js';
import { hostname } from 'node:os';
import { readlinkSync } from 'node:fs';
import {
  COORDINATOR_TTL_SECONDS,
  DEFAULT_PREFIX,
  coordinatorKey,
  cancelChannel,
  cancelKey,
  parseWorkerInfo,
  workerPattern,
  type QueueNames,
  type QueueWorkerInfo,
} from './keys.js';

export interface QueueEvaluatorOptions {
  /** The Redis URL (`redis://`, `rediss://`), or one parsed already. */
  readonly url: string | RedisTarget;
  readonly queueName?: string;
  /** BullMQ's key prefix (default 'bull'). */
  readonly prefix?: string;
  /** Where connection trouble is reported (one line each). */
  readonly report?: Report;
  /** How long createQueueEvaluator waits for Redis before giving up (default 30 s). */
  readonly connectTimeoutMs?: number;
  /** An evaluation rejects once Redis has been unreachable this long (default 5 min). */
  readonly giveUpAfterMs?: number;
  /** Tries of a job whose worker fails for a reason of its environment (default 3). */
  readonly attempts?: number;
  /** How often a waiting evaluation checks its job's state besides the events (default 2 s). */
  readonly pollMs?: number;
}

export interface QueueEvaluator {
  readonly run: RunTask;
  readonly evaluate: Evaluate;
  readonly target: RedisTarget;
  readonly queueName: string;
  /** The workers whose heartbeat is current. */
  workers(): Promise<QueueWorkerInfo[]>;
  /** Jobs waiting for a worker (not yet taken). */
  waiting(): Promise<number>;
  /** The workers and the queue's waiting and active jobs, as the API shows them. */
  report(description: string): Promise<WorkersReport>;
  /** Evaluations of this process in flight. */
  pending(): number;
  /** Rejects the evaluations in flight and closes the connections (jobs stay in Redis). */
  close(): Promise<void>;
}

/** The reason BullMQ gives a job whose worker stopped renewing its lock too often. */
const STALLED_LIMIT = /stalled more than allowable limit/;

/**
 * A finished job is removed by its coordinator once its outcome is stored in the run; these bounds
 * are the safety net for jobs no coordinator collects (its run never resumed): kept this long, so
 * that a coordinator resumed later still finds their results, and at most this many per queue.
 */
const KEEP_SECONDS = 7 * 24 * 3600;
const KEEP_COUNT = 5000;

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The evaluation was aborted', 'AbortError');
}

/** Another live coordinator already drives this run on this queue. */
export class CoordinatorConflictError extends Error {
  override name = 'CoordinatorConflictError';
  constructor(
    readonly runId: string,
    readonly queueName: string,
    readonly holder: { host?: string; pid?: number; startedAt?: string },
  ) {
    super(
      `run ${runId} is already coordinated on queue ${queueName} by process ${holder.pid ?? '?'} on ${holder.host ?? '?'} (since ${holder.startedAt ?? '?'}); two coordinators of one run would cancel each other's jobs: stop that one, or wait ${COORDINATOR_TTL_SECONDS} s after it died`,
    );
  }
}

/** Renews a claim only while it is still this coordinator's (KEYS[1], ARGV: value, ttl). */
const RENEW_CLAIM =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/** Drops a claim only if it is this coordinator's (KEYS[1], ARGV[1]: value). */
const DROP_CLAIM =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

class Closed extends Error {
  override name = 'QueueEvaluatorClosed';
}

/**
 * Connects to Redis (rejecting after `connectTimeoutMs` with the reason, the URL masked) and
 * returns the queue evaluator.
 */
/** This process's PID namespace (Linux), to tell whether another claim's pid is visible here. */
function pidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** A claim whose holder ran on this host, in this PID namespace, and whose process is gone. */
function holderIsDeadHere(holder: { host?: string; pidNamespace?: string; pid?: number }): boolean {
  if (holder.host !== hostname() || holder.pid === undefined) return false;
  const mine = pidNamespace();
  if (mine === undefined || holder.pidNamespace !== mine) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Replaces a claim only if it still holds the value read (KEYS[1], ARGV: old, new, ttl). */
const TAKE_OVER_CLAIM = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0`;

export async function createQueueEvaluator(
  options: QueueEvaluatorOptions,
): Promise<QueueEvaluator> {
  const target = redisTarget(options.url);
  const names: QueueNames = {
    prefix: options.prefix ?? DEFAULT_PREFIX,
    queueName: options.queueName ?? DEFAULT_QUEUE_NAME,
  };
  const report = options.report ?? (() => {});
  const health = new RedisHealth(target, report);
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const giveUpAfterMs = options.giveUpAfterMs ?? 300_000;
  const attempts = options.attempts ?? 3;
  const pollMs = options.pollMs ?? 2000;

  const clients: Redis[] = [];
  const client = (name: string) => {
    const c = redisClient(health, { name: `robust-nas-${name}` });
    clients.push(c);
    return c;
  };
  const control = client('coordinator');
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  try {
    await health.waitReady(control, connectTimeoutMs);
    queue = new Queue(names.queueName, { connection: client('queue'), prefix: names.prefix });
    events = new QueueEvents(names.queueName, {
      connection: client('events'),
      prefix: names.prefix,
    });
    queue.on('error', (err) => health.failed(err));
    events.on('error', (err) => health.failed(err));
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  } catch (err) {
    await Promise.allSettled([queue?.close(), events?.close()]);
    await Promise.allSettled(clients.map(closeClient));
    throw err;
  }
  const q = queue;

  /** Per job id: who wants its progress, and who waits for it to settle. */
  const progress = new Map<string, (p: EvalProgress) => void>();
  const wakers = new Map<string, Set<() => void>>();
  const wake = (jobId: string) => {
    for (const w of wakers.get(jobId) ?? []) w();
  };
  events.on('progress', ({ jobId, data }) => {
    const p = data as Partial<EvalProgress> | undefined;
    if (p && typeof p.phase === 'string' && typeof p.done === 'number') {
      progress.get(jobId)?.(p as EvalProgress);
    }
  });
  events.on('completed', ({ jobId }) => wake(jobId));
  events.on('failed', ({ jobId }) => wake(jobId));
  events.on('removed', ({ jobId }) => wake(jobId));

  let closed = false;
  const stops = new Set<() => void>();

  /** This coordinator's claims on runs (see the file comment), by run id. */
  const claimValue = JSON.stringify({
    instance: randomBytes(8).toString('hex'),
    host: hostname(),
    pidNamespace: pidNamespace(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
  });
  const claims = new Map<string, Promise<void>>();
  const claim = (runId: string): Promise<void> => {
    let p = claims.get(runId);
    if (!p) {
      p = (async () => {
        const key = coordinatorKey(names, runId);
        // A holder that is gone (a coordinator killed, then resumed) stops renewing its claim: on
        // this host and in this PID namespace its death is seen at once and the claim taken over;
        // elsewhere its claim is waited out (it expires within COORDINATOR_TTL_SECONDS). A live
        // holder renews it, and the second coordinator is refused naming it.
        const deadline = Date.now() + (COORDINATOR_TTL_SECONDS + 5) * 1000;
        for (;;) {
          const ok = await control.set(key, claimValue, 'EX', COORDINATOR_TTL_SECONDS, 'NX');
          if (ok === 'OK') return;
          const current = await control.get(key);
          if (current === claimValue) return;
          let holder: {
            host?: string;
            pidNamespace?: string;
            pid?: number;
            startedAt?: string;
          } = {};
          try {
            holder = JSON.parse(current ?? '{}') as typeof holder;
          } catch {
            // not ours to read: name what we can
          }
          if (current !== null && holderIsDeadHere(holder)) {
            const taken = await control.eval(
              TAKE_OVER_CLAIM,
              1,
              key,
              current,
              claimValue,
              COORDINATOR_TTL_SECONDS,
            );
            if (taken === 1) return;
            continue;
          }
          if (Date.now() > deadline || closed) {
            throw new CoordinatorConflictError(runId, names.queueName, holder);
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      })();
      claims.set(runId, p);
      p.catch(() => claims.delete(runId));
    }
    return p;
  };
  const renewClaims = setInterval(
    () => {
      for (const runId of claims.keys()) {
        control
          .eval(RENEW_CLAIM, 1, coordinatorKey(names, runId), claimValue, COORDINATOR_TTL_SECONDS)
          .catch(() => {});
      }
    },
    (COORDINATOR_TTL_SECONDS * 1000) / 3,
  );
  renewClaims.unref();

  /** The data set's fingerprint as this process reads it, once per data set and folder. */
  const fingerprints = new Map<string, Promise<string | undefined>>();
  const fingerprintOf = (dataset: EvaluationJob['config']['dataset'], dataDir?: string) => {
    const key = `${dataset}\0${dataDir ?? ''}`;
    let p = fingerprints.get(key);
    if (!p) {
      p = datasetFingerprint(dataset, dataDir);
      fingerprints.set(key, p);
      p.catch(() => fingerprints.delete(key));
    }
    return p;
  };
  /** Cancellations and removals under way (close() waits for them, a while). */
  const cancels = new Set<Promise<void>>();
  let inFlight = 0;

  /** `p`, unless Redis stays unreachable longer than allowed or the evaluation stops first. */
  async function guarded<T>(p: Promise<T>, stopped: () => boolean): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const watch = new Promise<never>((_, reject) => {
      const check = () => {
        if (closed) return reject(new Closed('the queue evaluator was closed'));
        if (stopped()) return reject(new Closed('stopped'));
        const down = health.unreachableFor();
        if (down > giveUpAfterMs) {
          return reject(
            new Error(
              `Redis at ${target.masked} has been unreachable for ${Math.round(down / 1000)} s${health.error() ? ` (${health.error()})` : ''}`,
            ),
          );
        }
        timer = setTimeout(check, 500);
      };
      timer = setTimeout(check, 500);
    });
    try {
      return await Promise.race([p, watch]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The job and its state, read in that order so that a finished state comes with the job's
   * result (read the other way round, a job that finished in between shows no result).
   */
  async function snapshot(jobId: string, stopped: () => boolean) {
    const state = await guarded(q.getJobState(jobId), stopped);
    const job = await guarded(Job.fromId(q, jobId), stopped);
    return { job, state: job ? state : 'unknown' };
  }

  /** Makes sure the job `jobId` with `data` is in Redis: queued, in flight or finished. */
  async function ensureJob(jobId: string, data: EvaluationJob, stopped: () => boolean) {
    const wanted = JSON.parse(JSON.stringify(data)) as unknown;
    for (let round = 0; ; round++) {
      if (stopped()) return;
      const { job: existing, state } = await snapshot(jobId, stopped);
      if (!existing) {
        await guarded(control.del(cancelKey(names, jobId)), stopped);
        await guarded(
          q.add('evaluate', data, {
            jobId,
            attempts,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: { age: KEEP_SECONDS, count: KEEP_COUNT },
            removeOnFail: { age: KEEP_SECONDS, count: KEEP_COUNT },
          }),
          stopped,
        );
        return;
      }
      const same = isDeepStrictEqual(existing.data, wanted);
      if (same && state !== 'failed') return; // queued, in flight, or finished
      // A failed try to make again (the run pauses on those and asks again on resume), or
      // another evaluation under this id: out with it.
      if (state === 'active') {
        await guarded(control.set(cancelKey(names, jobId), '1', 'EX', 3600), stopped);
        await guarded(control.publish(cancelChannel(names), jobId), stopped);
        await sleep(Math.min(250 * (round + 1), 2000));
        continue;
      }
      await guarded(
        existing.remove().catch(() => {}),
        stopped,
      );
    }
  }

  /** The outcome of job `jobId`: its result, or the rejection the run should see. */
  async function outcome(
    jobId: string,
    data: EvaluationJob,
    stopped: () => boolean,
  ): Promise<EvaluationResult> {
    const wanted = JSON.parse(JSON.stringify(data)) as unknown;
    for (;;) {
      const { job, state } = await snapshot(jobId, stopped);
      if (!job || !isDeepStrictEqual(job.data, wanted)) {
        // Gone (removed, or lost by a Redis without persistence) or replaced: queue it again.
        await ensureJob(jobId, data, stopped);
      } else {
        if (state === 'completed') {
          try {
            return { ...decodeResult(jobId, job.returnvalue), release: () => release(jobId) };
          } catch (err) {
            if (err instanceof EvaluationFailure) err.release = () => release(jobId);
            throw err;
          }
        }
        if (state === 'failed') {
          const reason = job.failedReason || 'no reason given';
          if (reason === CANCELLED_REASON) {
            // Cancelled for an earlier pause of this run while still running: ask again.
            await ensureJob(jobId, data, stopped);
            continue;
          }
          if (STALLED_LIMIT.test(reason)) {
            // A fault of the environment (a worker killed or stalled on it each time), never the
            // candidate's failure: the run pauses, and a resume queues the job afresh.
            throw new Error(
              `evaluation job ${jobId}: its worker died or stalled on it ${job.stalledCounter ?? 'several'} times (a fault of the workers' environment, not of the candidate; BullMQ: ${reason})`,
            );
          }
          throw new Error(
            `evaluation job ${jobId} failed after ${job.attemptsMade} ${job.attemptsMade === 1 ? 'try' : 'tries'}: ${reason}`,
          );
        }
      }
      // Wait for an event about this job, or the next poll.
      await new Promise<void>((resolve) => {
        const set = wakers.get(jobId) ?? new Set();
        wakers.set(jobId, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) wakers.delete(jobId);
          stops.delete(done);
          resolve();
        };
        const timer = setTimeout(done, pollMs);
        set.add(done);
        stops.add(done);
      });
      if (closed) throw new Closed('the queue evaluator was closed');
      if (stopped()) throw new Closed('stopped');
    }
  }

  /**
   * Removes the finished job `jobId` (its outcome is stored in the run now, so nothing needs it);
   * a job queued or running again under that id meanwhile is left alone. Never rejects.
   */
  function release(jobId: string): Promise<void> {
    const work = (async () => {
      try {
        const state = await q.getJobState(jobId);
        if (state === 'completed' || state === 'failed') await q.remove(jobId);
        await control.del(cancelKey(names, jobId));
      } catch (err) {
        report(
          `could not remove finished evaluation job ${jobId}: ${err instanceof Error ? err.message : String(err)} (removed after ${KEEP_SECONDS / 86400} days anyway)`,
        );
      }
    })();
    cancels.add(work);
    void work.finally(() => cancels.delete(work));
    return work;
  }

  /** Takes job `jobId` out of the queue, or tells its worker to drop it. Never rejects. */
  function cancel(jobId: string): void {
    const work = (async () => {
      try {
        await control.set(cancelKey(names, jobId), '1', 'EX', 3600);
        const job = await Job.fromId(q, jobId);
        if (!job) return;
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') return;
        if (state !== 'active') {
          try {
            await job.remove();
            return;
          } catch {
            // A worker took it meanwhile: cancel it there.
          }
        }
        await control.publish(cancelChannel(names), jobId);
      } catch (err) {
        report(
          `could not cancel evaluation job ${jobId}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    })();
    cancels.add(work);
    void work.finally(() => cancels.delete(work));
  }

  const run: RunTask = async (task, onProgress, opts = {}) => {
    if (closed) throw new Error('the queue evaluator was closed');
    const signal = opts.signal;
    signal?.throwIfAborted();
    const ref = opts.job ?? { runId: `adhoc-${randomBytes(6).toString('hex')}`, index: 0 };
    const jobId = jobIdOf(ref.runId, ref.index);
    if (opts.job) await claim(ref.runId);
    const fingerprint = await fingerprintOf(task.config.dataset, task.config.dataDir);
    const data: EvaluationJob = {
      ...jobOfTask(ref.runId, ref.index, task),
      ...(fingerprint !== undefined ? { dataFingerprint: fingerprint } : {}),
    };
    let aborted = false;
    const stopped = () => aborted || closed;
    if (onProgress) progress.set(jobId, onProgress);
    inFlight += 1;
    let onAbort: (() => void) | undefined;
    const abortedP = new Promise<never>((_, reject) => {
      onAbort = () => {
        aborted = true;
        for (const w of wakers.get(jobId) ?? []) w();
        cancel(jobId);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    abortedP.catch(() => {});
    try {
      const work = (async () => {
        await ensureJob(jobId, data, stopped);
        return outcome(jobId, data, stopped);
      })();
      work.catch(() => {});
      return await Promise.race([work, abortedP]);
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal);
      throw err;
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      if (progress.get(jobId) === onProgress) progress.delete(jobId);
      inFlight -= 1;
    }
  };

  const evaluate: Evaluate = (genotype, config, seed, onProgress, opts) =>
    run(genotypeTask(genotype, config, seed, opts?.keepWeights ?? false), onProgress, opts);

  return {
    run,
    evaluate,
    target,
    queueName: names.queueName,
    pending: () => inFlight,
    workers: () => listWorkers(control, names),
    async waiting() {
      const counts = await q.getJobCounts('waiting', 'prioritized', 'delayed');
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
    },
    async report(description) {
      const [workers, counts] = await Promise.all([
        listWorkers(control, names),
        q.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
      ]);
      return queueReport(description, workers, counts);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(renewClaims);
      for (const stop of [...stops]) stop();
      await atMost(
        Promise.allSettled(
          [...claims.keys()].map((runId) =>
            control.eval(DROP_CLAIM, 1, coordinatorKey(names, runId), claimValue),
          ),
        ),
        1000,
      );
      await atMost(Promise.allSettled([...cancels]), 2000);
      // BullMQ's close waits for Redis: with Redis gone, the connections are dropped after 2 s.
      await atMost(Promise.allSettled([events!.close(), q.close()]), 2000);
      await Promise.allSettled(clients.map(closeClient));
    },
  };
}

/**
 * The heartbeats of the queue's workers (those whose heartbeat has not expired), each checked
 * (anything else under the key is skipped), at most {@link MAX_LISTED_WORKERS}, by name.
 */
export async function listWorkers(control: Redis, names: QueueNames): Promise<QueueWorkerInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await control.scan(cursor, 'MATCH', workerPattern(names), 'COUNT', 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0' && keys.length < 10 * MAX_LISTED_WORKERS);
  if (keys.length === 0) return [];
  const values = await control.mget(...keys);
  return values
    .flatMap((v) => {
      const info = v ? parseWorkerInfo(v) : undefined;
      return info ? [info] : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name))
    .slice(0, MAX_LISTED_WORKERS);
}

/** A queue's workers and job counts as the API shows them. */
export function queueReport(
  description: string,
  workers: readonly QueueWorkerInfo[],
  counts: Record<string, number>,
): WorkersReport {
  const statuses: WorkerStatus[] = workers.map((w) => ({
    id: w.id,
    name: w.name,
    host: w.host,
    pid: w.pid,
    concurrency: w.concurrency,
    // A worker of an older version names its jobs only (`<runId>.<index>`).
    busy: (w.tasks ?? w.jobs.map((job) => taskOfJobId(job, w.lastSeen))).slice(
      0,
      MAX_TASKS_PER_WORKER,
    ),
    lastSeen: w.lastSeen,
    finished: w.finished,
    ...(w.backend ? { backend: w.backend } : {}),
  }));
  return {
    placement: 'queue',
    description,
    workers: statuses,
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
    active: counts.active ?? 0,
    at: new Date().toISOString(),
  };
}

function taskOfJobId(jobId: string, seen: string): WorkerTask {
  const dot = jobId.lastIndexOf('.');
  const index = Number(jobId.slice(dot + 1));
  return dot > 0 && Number.isInteger(index)
    ? { runId: jobId.slice(0, dot), index, hash: '', startedAt: seen }
    : { hash: '', startedAt: seen };
}
