/**
 * The evaluation queue (BullMQ on a real Redis, real `robust-nas worker` processes, the real
 * evaluator on a tiny synthetic network): a queued evaluation gives what the evaluator gives in
 * this thread; a result already in Redis is read back, not computed again; abort removes or
 * cancels; malformed and other-version jobs fail with the reason while the worker carries on; a
 * candidate's own failure, a worker killed mid-evaluation, a worker that dies on its job every
 * time; malformed URLs and an unreachable Redis.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EvaluationFailure,
  evalConfigSchema,
  type EvalConfig,
  type Scores,
} from '../../src/core/evaluation.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { evaluateGenotype } from '../../src/evaluator/evaluate.js';
import {
  CANCELLED_REASON,
  DEFAULT_QUEUE_NAME,
  JOB_FORMAT_VERSION,
} from '../../src/placement/job.js';
import { createQueueEvaluator, type QueueEvaluator } from '../../src/placement/queue-evaluator.js';
import { runCommand } from '../helpers/cli.js';
import { countLines, killAll, startCli, startWorker } from '../helpers/queue-processes.js';
import { freePort, startRedis, type RedisServer } from '../helpers/redis.js';
import { TINY_EVALUATION, tinyEvaluation } from '../helpers/tiny-evaluation.js';

const PASSWORD = 'queue-test-secret';
const tiny = TINY_EVALUATION;
const config = tinyEvaluation();
/** Minutes of training: long enough to be caught mid-evaluation. */
const long = evalConfigSchema.parse({ ...tiny, epochs: 400, trainSize: 256 });
/** Diverges to an infinite loss: the candidate's own failure. */
const divergent = evalConfigSchema.parse({
  ...tiny,
  learningRate: 10,
  momentum: 1,
  weightDecay: 0,
  epochs: 40,
  gradClip: 1e30,
});
const genotype = getPublishedGenotype('DARTS_V2');
const withoutTimes = ({ seconds: _s, ...rest }: Scores) => rest;

let redis: RedisServer;
let queue: QueueEvaluator;
const reports: string[] = [];

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  queue = await createQueueEvaluator({
    url: redis.url,
    report: (line) => reports.push(line),
    pollMs: 500,
  });
});

afterAll(async () => {
  await killAll();
  await queue?.close();
  await redis?.stop();
});

/** A raw BullMQ view of the queue, as an operator's tools would see it. */
async function rawQueue<T>(use: (q: Queue, events: QueueEvents) => Promise<T>): Promise<T> {
  const connection = () => new Redis(redis.url, { maxRetriesPerRequest: null });
  const q = new Queue(DEFAULT_QUEUE_NAME, { connection: connection() });
  const events = new QueueEvents(DEFAULT_QUEUE_NAME, { connection: connection() });
  try {
    await events.waitUntilReady();
    return await use(q, events);
  } finally {
    await events.close();
    await q.close();
  }
}

/** Evaluates in this thread, as the uninterrupted single-worker run does. */
function here(c: EvalConfig, seed: number) {
  return evaluateGenotype(genotype, c, seed, undefined, { keepWeights: true });
}

describe('the evaluation queue', () => {
  it('gives the scores and weights of an evaluation in this thread, with progress, and never computes a job twice', async () => {
    const worker = await startWorker(redis.url, 'w-one');
    try {
      const listed = await queue.workers();
      expect(listed).toEqual([
        expect.objectContaining({ name: 'w-one', pid: worker.pid, concurrency: 1, jobs: [] }),
      ]);
      const phases = new Set<string>();
      const ask = () =>
        queue.evaluate(genotype, config, 5, (p) => phases.add(p.phase), {
          keepWeights: true,
          job: { runId: 'same', index: 0 },
        });
      const queued = await ask();
      const mine = await here(config, 5);
      expect(withoutTimes(queued.scores)).toEqual(withoutTimes(mine.scores));
      expect(Buffer.from(queued.weights!).equals(Buffer.from(mine.weights!))).toBe(true);
      expect([...phases]).toEqual(expect.arrayContaining(['data', 'train', 'attack']));

      // Asked again (a resumed coordinator): read back from Redis, not evaluated again.
      const again = await ask();
      expect(again.scores).toEqual(queued.scores);
      expect(countLines(worker.stdout(), /job same\.0 started/)).toBe(1);

      // The same id with other data (another run that reused the id) is evaluated afresh.
      const other = await queue.evaluate(genotype, config, 6, undefined, {
        job: { runId: 'same', index: 0 },
      });
      expect(other.weights).toBeUndefined();
      expect(withoutTimes(other.scores)).toEqual(withoutTimes((await here(config, 6)).scores));
      expect(countLines(worker.stdout(), /job same\.0 started/)).toBe(2);

      // The candidate's own failure is its result: an EvaluationFailure; the worker carries on.
      const failed = await queue
        .evaluate(genotype, divergent, 1, undefined, { job: { runId: 'nan', index: 0 } })
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(EvaluationFailure);
      expect((failed as Error).message).toMatch(/training diverged: loss (NaN|Infinity)/);
      expect(worker.stdout()).toMatch(/job nan\.0: the candidate failed: training diverged/);
      const after = await queue.workers();
      expect(after[0]).toMatchObject({ name: 'w-one', finished: 3, jobs: [] });
      expect(after[0]!.backend).toBe(queued.scores.backend);
    } finally {
      await worker.kill('SIGTERM');
    }
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await queue.workers()).toEqual([]);
  });

  it('abort removes a waiting job and stops an active one within 2 s; the worker keeps serving', async () => {
    const worker = await startWorker(redis.url, 'w-abort');
    try {
      const busy = new AbortController();
      const waiting = new AbortController();
      let training = () => {};
      const trained = new Promise<void>((ok) => (training = ok));
      const running = queue.evaluate(
        genotype,
        long,
        1,
        (p) => {
          if (p.phase === 'train' && p.done > 0) training();
        },
        { signal: busy.signal, job: { runId: 'abort', index: 0 } },
      );
      const queued = queue.evaluate(genotype, long, 2, undefined, {
        signal: waiting.signal,
        job: { runId: 'abort', index: 1 },
      });
      await trained;
      // The second job waits (one worker, one evaluation at a time): aborting removes it.
      waiting.abort();
      await expect(queued).rejects.toThrow(/abort/i);
      await rawQueue(async (q) => {
        for (let i = 0; i < 40 && (await Job.fromId(q, 'abort.1')); i++) {
          await new Promise((ok) => setTimeout(ok, 50));
        }
        expect(await Job.fromId(q, 'abort.1')).toBeUndefined();
      });
      // The active one: the caller is answered at once, the worker drops it within 2 s.
      const abortedAt = performance.now();
      busy.abort();
      await expect(running).rejects.toThrow(/abort/i);
      await worker.line(/job abort\.0 cancelled by its coordinator/, 5000);
      expect(performance.now() - abortedAt).toBeLessThan(2000);
      await rawQueue(async (q) => {
        const job = await Job.fromId(q, 'abort.0');
        expect(await job!.getState()).toBe('failed');
        expect(job!.failedReason).toBe(CANCELLED_REASON);
      });
      // Asked again (the run resumed), a cancelled job is queued afresh; and the worker serves.
      const next = await queue.evaluate(genotype, config, 5, undefined, {
        job: { runId: 'abort', index: 0 },
      });
      expect(next.scores.clean.n).toBe(32);
      expect(queue.pending()).toBe(0);
    } finally {
      await worker.kill('SIGTERM');
    }
  });

  it('fails a malformed job, or one of another format version, with the reason; the worker carries on', async () => {
    const worker = await startWorker(redis.url, 'w-strict');
    try {
      const good = {
        formatVersion: JOB_FORMAT_VERSION,
        runId: 'raw',
        index: 0,
        members: [{ genotype }],
        config,
        seed: 1,
        keepWeights: false,
      };
      await rawQueue(async (q, events) => {
        const cases = [
          {
            id: 'raw.1',
            data: { ...good, formatVersion: 1 },
            reason: /format version 1.*version 2/,
          },
          {
            id: 'raw.2',
            data: { ...good, members: [{ genotype: { normal: [['conv_9x9', 0]] } }] },
            reason: /genotype/,
          },
          { id: 'raw.3', data: { ...good, seed: -4, extra: true }, reason: /seed.*(\n|.)*|extra/ },
          { id: 'raw.4', data: 'not an object', reason: /formatVersion/ },
        ];
        for (const c of cases) {
          const job = await q.add('evaluate', c.data, { jobId: c.id, attempts: 3 });
          const err = await job.waitUntilFinished(events, 120_000).catch((e: unknown) => e);
          expect((err as Error).message).toMatch(c.reason);
          const stored = await Job.fromId(q, c.id);
          expect(stored!.failedReason).toMatch(c.reason);
          expect(stored!.attemptsMade).toBe(1); // not retried: it can never succeed
        }
      });
      expect(worker.stdout()).toMatch(/job raw\.1 refused: job format version 1/);
      expect(worker.child.exitCode).toBeNull();
      const ok = await queue.evaluate(genotype, config, 5, undefined, {
        job: { runId: 'strict', index: 0 },
      });
      expect(ok.scores.clean.n).toBe(32);
    } finally {
      await worker.kill('SIGTERM');
    }
  });

  it('a worker SIGKILLed mid-evaluation: its job goes to another worker, with the same result', async () => {
    const medium = evalConfigSchema.parse({ ...tiny, epochs: 80, trainSize: 128 });
    const workers = await Promise.all([
      startWorker(redis.url, 'w-a'),
      startWorker(redis.url, 'w-b'),
    ]);
    try {
      const evaluation = queue.evaluate(genotype, medium, 9, undefined, {
        keepWeights: true,
        job: { runId: 'killed', index: 0 },
      });
      const taker = await Promise.race(
        workers.map((w) => w.line(/job killed\.0 started/).then(() => w)),
      );
      await taker.kill('SIGKILL');
      const other = workers.find((w) => w !== taker)!;
      const result = await evaluation;
      await other.line(/job killed\.0 finished/);
      expect(taker.stdout()).not.toMatch(/job killed\.0 finished/);
      const mine = await here(medium, 9);
      expect(withoutTimes(result.scores)).toEqual(withoutTimes(mine.scores));
      expect(Buffer.from(result.weights!).equals(Buffer.from(mine.weights!))).toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
  });

  it('a job whose worker dies every time fails after a bounded number of deaths as a fault of the environment (never the candidate failing), with the reason', async () => {
    const evaluation = queue
      .evaluate(genotype, long, 3, undefined, { job: { runId: 'doomed', index: 0 } })
      .catch((e: unknown) => e);
    // Three workers die on it in turn (the default allows two deaths); a fourth finds it failed.
    for (let death = 1; death <= 3; death++) {
      const w = await startWorker(redis.url, `w-doomed-${death}`);
      await w.line(/job doomed\.0 started/);
      await w.kill('SIGKILL');
    }
    const judge = await startWorker(redis.url, 'w-judge');
    try {
      const err = await evaluation;
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(EvaluationFailure);
      expect((err as Error).message).toMatch(
        /died or stalled on it .*not of the candidate.*stalled more than allowable limit/,
      );
      expect(judge.stdout()).not.toMatch(/job doomed\.0 started/);
    } finally {
      await judge.kill('SIGTERM');
    }
  });
});

describe('Redis URLs and reachability', () => {
  it('a malformed URL exits 2 naming it, the password masked', () => {
    for (const url of [
      'redis://:hunter2@127.0.0.1:99999',
      'http://:hunter2@127.0.0.1:6379',
      'redis://:hunter2@127.0.0.1:6379/db',
      'redis//hunter2@127.0.0.1',
    ]) {
      const r = runCommand(['worker', '--redis', url]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--redis: malformed Redis URL/);
      expect(r.stderr + r.stdout).not.toContain('hunter2');
    }
    for (const command of [['search'], ['resume', 'some-run'], ['serve']]) {
      const q = runCommand([...command, '--queue', 'redis://:hunter2@127.0.0.1:99999']);
      expect(q.code).toBe(2);
      expect(q.stderr).toMatch(
        /--queue: malformed Redis URL 'redis:\/\/:\*\*\*\*@127\.0\.0\.1:99999'/,
      );
      expect(q.stderr).not.toContain('hunter2');
    }
    const r = runCommand(['worker', '--redis', 'redis://:hunter2@127.0.0.1:99999']);
    expect(r.stderr.trim()).toBe(
      "robust-nas: error: --redis: malformed Redis URL 'redis://:****@127.0.0.1:99999': port 99999 is out of range (1-65535)",
    );
  });

  it('an unreachable Redis is retried with backoff and reported; a coordinator gives up after its bound', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const started = performance.now();
    const err = await createQueueEvaluator({
      url: `redis://:hunter2@127.0.0.1:${port}`,
      connectTimeoutMs: 1500,
      report: (line) => lines.push(line),
    }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5000);
    expect((err as Error).message).toMatch(
      new RegExp(
        `cannot reach Redis at redis://:\\*\\*\\*\\*@127\\.0\\.0\\.1:${port} within 2 s: .*ECONNREFUSED`,
      ),
    );
    expect(lines[0]).toMatch(/is unreachable \(.*ECONNREFUSED.*\); retrying with backoff/);
    expect(lines.join('\n')).not.toContain('hunter2');

    // A worker keeps trying (it is a service) and says so; SIGTERM still stops it cleanly.
    const worker = startCli(['worker', '--redis', `redis://:hunter2@127.0.0.1:${port}`]);
    await worker.line(/Redis at redis:\/\/:\*\*\*\*@127\.0\.0\.1:\d+ is unreachable/, 10_000);
    expect(await worker.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(worker.stderr() + worker.stdout()).not.toContain('hunter2');

    // Redis lost mid-evaluation: the evaluation waits, reporting, and gives up after its bound.
    const lost = await startRedis();
    const worker2 = await startWorker(lost.url, 'w-lost');
    const lostLines: string[] = [];
    const coordinator = await createQueueEvaluator({
      url: lost.url,
      giveUpAfterMs: 1500,
      report: (line) => lostLines.push(line),
    });
    try {
      let training = () => {};
      const trained = new Promise<void>((ok) => (training = ok));
      const waiting = coordinator
        .evaluate(genotype, long, 1, (p) => p.phase === 'train' && training(), {
          job: { runId: 'lost', index: 0 },
        })
        .catch((e: unknown) => e);
      await trained;
      await lost.halt();
      const gaveUp = (await waiting) as Error;
      expect(gaveUp).toBeInstanceOf(Error);
      expect(gaveUp).not.toBeInstanceOf(EvaluationFailure);
      expect(gaveUp.message).toMatch(
        /^Redis at redis:\/\/127\.0\.0\.1:\d+ has been unreachable for \d+ s/,
      );
      expect(lostLines[0]).toMatch(/is unreachable .*retrying with backoff/);
    } finally {
      await coordinator.close();
      await worker2.kill('SIGKILL');
      await lost.stop();
    }

    // A wrong password is reported as such.
    const wrong = redis.url.replace(PASSWORD, 'not-the-password');
    const refused = await createQueueEvaluator({ url: wrong, connectTimeoutMs: 1500 }).catch(
      (e: unknown) => e,
    );
    expect((refused as Error).message).toMatch(/WRONGPASS|NOAUTH|invalid password/i);
    expect((refused as Error).message).not.toContain('not-the-password');
  });
});
