/**
 * Hardening of the queue (issue 20) on a real Redis with real `robust-nas worker` processes:
 * injected jobs that break the worker's rules (unknown nested keys, an oversized payload, a network
 * over its --max-memory-mb, a data folder outside its data roots) fail at once with the reason and
 * the worker carries on; a worker whose data differs refuses the job naming both fingerprints; a
 * second coordinator of the same run on the same queue is refused naming the first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { datasetFingerprint } from '../../src/evaluator/datasets/fingerprint.js';
import { datasetSpec } from '../../src/evaluator/datasets/registry.js';
import { DEFAULT_QUEUE_NAME, JOB_FORMAT_VERSION } from '../../src/placement/job.js';
import {
  CoordinatorConflictError,
  createQueueEvaluator,
} from '../../src/placement/queue-evaluator.js';
import { killAll, startCli } from '../helpers/queue-processes.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tinyEvaluation } from '../helpers/tiny-evaluation.js';

const genotype = getPublishedGenotype('DARTS_V2');
const root = mkdtempSync(join(tmpdir(), 'robust-nas-trust-'));
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await killAll();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function worker(name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const w = startCli(
    ['worker', '--redis', redis.url, '--name', name, '--lock-duration', '2', ...args],
    env,
  );
  await w.line(/taking jobs from queue/);
  return w;
}

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

describe('a worker trusts no job', () => {
  it('fails injected jobs that break its rules at once, with the reason, and carries on', async () => {
    const w = await worker('w-trust', ['--max-memory-mb', '512']);
    try {
      const good = {
        formatVersion: JOB_FORMAT_VERSION,
        runId: 'inj',
        index: 0,
        members: [{ genotype }],
        config: tinyEvaluation(),
        seed: 1,
        keepWeights: false,
      };
      const cases = [
        {
          id: 'inj.1',
          data: { ...good, config: { ...good.config, sneaky: 1 } },
          reason: /unknown field config\.sneaky/,
        },
        {
          id: 'inj.2',
          data: { ...good, members: [{ genotype: { ...genotype, padding: 'x'.repeat(70_000) } }] },
          reason: /bytes of data, more than a job may hold/,
        },
        {
          id: 'inj.3',
          data: {
            ...good,
            config: { ...good.config, channels: 512, layers: 64, trainSize: 60_000 },
          },
          reason: /over this worker's memory limit: .*limit of 512 MB/,
        },
        {
          id: 'inj.4',
          data: { ...good, config: { ...good.config, dataset: 'mnist', dataDir: '/etc' } },
          reason: /data folder \/etc, outside this worker's data roots/,
        },
      ];
      await rawQueue(async (q, events) => {
        for (const c of cases) {
          const job = await q.add('evaluate', c.data, { jobId: c.id, attempts: 3 });
          const err = await job.waitUntilFinished(events, 60_000).catch((e: unknown) => e);
          expect((err as Error).message).toMatch(c.reason);
          const stored = await Job.fromId(q, c.id);
          expect(stored!.attemptsMade).toBe(1);
        }
        // And a good one still runs.
        const job = await q.add('evaluate', good, { jobId: 'inj.5' });
        const value = (await job.waitUntilFinished(events, 120_000)) as { outcome: string };
        expect(value.outcome).toBe('scores');
      });
      expect(w.child.exitCode).toBeNull();
      expect(w.stdout()).toMatch(/job inj\.3 refused: over this worker's memory limit/);
    } finally {
      await w.kill('SIGTERM');
    }
  });

  it('a worker whose data set differs refuses the job naming both fingerprints', async () => {
    // The worker's MNIST (via ROBUST_NAS_DATA) is not the files this process reads.
    const other = join(root, 'other-data');
    const spec = datasetSpec('mnist');
    if (spec.format !== 'idx') throw new Error('mnist is IDX');
    mkdirSync(join(other, 'mnist'), { recursive: true });
    for (const f of Object.values(spec.files)) {
      writeFileSync(join(other, 'mnist', f.name), Buffer.alloc(100, 9));
    }
    const env = { ROBUST_NAS_DATA: other, ROBUST_NAS_CACHE: join(root, 'no-cache') };
    const mine = await datasetFingerprint('mnist');
    const theirs = await datasetFingerprint('mnist', undefined, env);
    expect(mine).toBeDefined();
    expect(theirs).not.toBe(mine);
    const w = await worker('w-data', [], env);
    const queue = await createQueueEvaluator({ url: redis.url, pollMs: 300, attempts: 1 });
    try {
      const config = tinyEvaluation({ dataset: 'mnist' });
      const err = await queue
        .evaluate(genotype, config, 1, undefined, { job: { runId: 'data', index: 0 } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(
        `this worker's data differs from the coordinator's: the job expects ${mine}, this worker has ${theirs}`,
      );
      expect(w.stdout()).toMatch(/job data\.0 not run: this worker's data differs/);
    } finally {
      await queue.close();
      await w.kill('SIGTERM');
    }
  });
});

describe('one coordinator per run and queue', () => {
  it('refuses a second coordinator of the same run naming the first; a released run can be taken', async () => {
    const first = await createQueueEvaluator({ url: redis.url, queueName: 'coord' });
    const second = await createQueueEvaluator({ url: redis.url, queueName: 'coord' });
    const config = tinyEvaluation();
    const stop = new AbortController();
    try {
      // No worker on this queue: the first evaluation waits, holding the run.
      const waiting = first
        .evaluate(genotype, config, 1, undefined, {
          job: { runId: 'twin', index: 0 },
          signal: stop.signal,
        })
        .catch((e: unknown) => e);
      let err: unknown;
      for (let i = 0; i < 200 && err === undefined; i++) {
        err = await second
          .evaluate(genotype, { ...config, epochs: 2 }, 2, undefined, {
            job: { runId: 'twin', index: 0 },
            signal: AbortSignal.timeout(2_000),
          })
          .then(
            () => 'evaluated',
            (e: unknown) => (e instanceof CoordinatorConflictError ? e : undefined),
          );
      }
      expect(err).toBeInstanceOf(CoordinatorConflictError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^run twin is already coordinated on queue coord by process ${process.pid} on ${hostname().replace(/[.]/g, '\\.')} \\(since \\d{4}-\\d\\d-\\d\\dT`,
        ),
      );
      // Another run on the same queue is no conflict.
      const other = second
        .evaluate(genotype, config, 1, undefined, {
          job: { runId: 'single', index: 0 },
          signal: AbortSignal.timeout(1_000),
        })
        .catch((e: unknown) => e);
      expect(await other).not.toBeInstanceOf(CoordinatorConflictError);
      stop.abort();
      await waiting;
      await first.close();
      // The first coordinator released its claim: the run can be coordinated again.
      const again = await second
        .evaluate(genotype, config, 1, undefined, {
          job: { runId: 'twin', index: 0 },
          signal: AbortSignal.timeout(1_000),
        })
        .catch((e: unknown) => e);
      expect(again).not.toBeInstanceOf(CoordinatorConflictError);
    } finally {
      stop.abort();
      await first.close();
      await second.close();
    }
  });
});
