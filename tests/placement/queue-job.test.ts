/**
 * The queue's plain-data parts: Redis URLs (checked with zod, the password masked in every message),
 * the job and result formats, the search config's `workers` and `queue`, and the slots that let a
 * run keep a whole generation in flight on a smaller local pool.
 */
import { describe, expect, it } from 'vitest';
import { EvaluationFailure } from '../../src/core/evaluation.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { maskRedisUrl, parseRedisUrl, redisUrlSchema } from '../../src/core/redis-url.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { createPoolEvaluator } from '../../src/placement/worker-pool.js';
import { backoffDelay } from '../../src/placement/connection.js';
import {
  JOB_FORMAT_VERSION,
  decodeResult,
  encodeFailure,
  encodeResult,
  jobIdOf,
  parseEvaluationJob,
} from '../../src/placement/job.js';
import { limitConcurrency, placementOf } from '../../src/placement/placement.js';
import { tinyEvaluation } from '../helpers/tiny-evaluation.js';

const config = tinyEvaluation();
const genotype = getPublishedGenotype('DARTS_V2');

describe('Redis URLs', () => {
  it('are split into host, port, database, TLS and credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1')).toMatchObject({
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      tls: false,
      masked: 'redis://127.0.0.1',
    });
    const t = parseRedisUrl('rediss://worker:s%40cret@redis.example:6380/3');
    expect(t).toMatchObject({
      host: 'redis.example',
      port: 6380,
      db: 3,
      tls: true,
      username: 'worker',
      password: 's@cret',
      masked: 'rediss://worker:****@redis.example:6380/3',
    });
    expect(parseRedisUrl('redis://[::1]:7000').host).toBe('::1');
  });

  it('refuse what is not one, naming it with the password masked', () => {
    const cases: [string, RegExp][] = [
      ['http://:pw@h', /scheme must be redis:\/\/ or rediss:\/\//],
      ['redis://:pw@h:70000', /port 70000 is out of range/],
      ['redis://:pw@h/x', /database number/],
      ['redis://:pw@h/1?tls=1', /query parameters/],
      ['redis://:pw@', /not a URL|names no host/],
      ['localhost:6379', /scheme|not a URL/],
    ];
    for (const [url, why] of cases) {
      const r = redisUrlSchema.safeParse(url);
      expect(r.success, url).toBe(false);
      const message = r.error!.issues[0]!.message;
      expect(message).toMatch(/^malformed Redis URL '/);
      expect(message).toMatch(why);
      expect(message).not.toContain('pw');
    }
    expect(() => parseRedisUrl('redis://:pw@h:0', '--queue')).toThrow(
      "--queue: malformed Redis URL 'redis://:****@h:0': port 0 is out of range",
    );
    expect(maskRedisUrl('a redis://u:p@h and rediss://tok@h')).toBe(
      'a redis://u:****@h and rediss://****@h',
    );
  });

  it('are retried with a backoff that doubles from 250 ms to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(backoffDelay)).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });
});

describe('the search config', () => {
  const base = { evaluation: { dataset: 'synthetic' } };

  it('places evaluations in a pool or on a queue, not both, and stores no password', () => {
    expect(parseSearchConfig({ ...base, workers: 2 }).workers).toBe(2);
    expect(parseSearchConfig({ ...base, queue: 'redis://q.internal:6379' }).queue).toBe(
      'redis://q.internal:6379',
    );
    expect(() => parseSearchConfig({ ...base, workers: 0 })).toThrow(/workers/);
    expect(() => parseSearchConfig({ ...base, workers: 2, queue: 'redis://h' })).toThrow(
      /queue: give either workers .* or queue .*, not both/,
    );
    expect(() => parseSearchConfig({ ...base, queue: 'redis://:hunter2@h' })).toThrow(
      /holds a password.*ROBUST_NAS_REDIS_PASSWORD/,
    );
    expect(() => parseSearchConfig({ ...base, queue: 'redis://:hunter2@h' })).not.toThrow(
      /hunter2/,
    );
    expect(() => parseSearchConfig({ ...base, queue: 'tcp://h' })).toThrow(/malformed Redis URL/);
  });

  it('is overridden by --workers or --queue on the command line', () => {
    const c = parseSearchConfig({ ...base, workers: 2 });
    expect(placementOf(c)).toEqual({ workers: 2 });
    expect(placementOf(c, { queue: 'redis://h' })).toEqual({ queue: 'redis://h' });
    expect(placementOf(parseSearchConfig(base))).toEqual({});
    expect(() => placementOf(c, { workers: 1, queue: 'redis://h' })).toThrow(/not both/);
  });
});

describe('jobs and results', () => {
  const job = {
    formatVersion: JOB_FORMAT_VERSION,
    runId: 'r-1',
    index: 7,
    genotype,
    config,
    seed: 3,
    keepWeights: true,
  };

  it('a job is plain data, checked field by field; another version is named as such', () => {
    expect(jobIdOf('r-1', 7)).toBe('r-1.7');
    expect(parseEvaluationJob(JSON.parse(JSON.stringify(job)))).toEqual(job);
    expect(parseEvaluationJob({ ...job, formatVersion: 2 })).toEqual({
      problem: expect.stringMatching(/^job format version 2, but this worker reads version 1/),
    });
    expect(parseEvaluationJob({ ...job, seed: 1.5 })).toEqual({
      problem: expect.stringMatching(/^malformed job: seed: /),
    });
    expect(parseEvaluationJob({ ...job, runId: '../x' })).toEqual({
      problem: expect.stringMatching(/runId: must be a run id/),
    });
    expect(parseEvaluationJob({ ...job, config: { ...config, batchSize: 0 } })).toEqual({
      problem: expect.stringMatching(/config\.batchSize/),
    });
    const bad = parseEvaluationJob({
      ...job,
      genotype: { ...genotype, normal: [['conv_9x9', 0]] },
    });
    expect(bad).toEqual({ problem: expect.stringMatching(/genotype: .*conv_9x9/) });
    expect(parseEvaluationJob(null)).toEqual({
      problem: expect.stringMatching(/formatVersion: expected 1, found nothing/),
    });
  });

  it('a result carries the scores and the weights through JSON, or the candidate failure', () => {
    const scores = {
      clean: { accuracy: 0.5, stderr: 0.1, n: 32 },
      adversarial: [{ attack: 'fgsm', eps: 0.1, accuracy: 0.25, stderr: 0.08, n: 32 }],
      hrs: 1 / 3,
      params: 300,
      macs: 26272,
      seconds: { train: 1, attack: 0.5, total: 1.6 },
      backend: 'wasm',
    } as const;
    const weights = new Uint8Array(Array.from({ length: 4099 }, (_, i) => (i * 7) % 256));
    const sent = JSON.parse(JSON.stringify(encodeResult({ scores, weights }, 'w1'))) as unknown;
    const back = decodeResult('r-1.7', sent);
    expect(back.scores).toEqual(scores);
    expect(Buffer.from(back.weights!).equals(Buffer.from(weights))).toBe(true);
    expect(back.weights!.byteOffset).toBe(0);
    expect(decodeResult('r-1.7', encodeResult({ scores })).weights).toBeUndefined();
    expect(() =>
      decodeResult('r-1.7', encodeFailure(new EvaluationFailure('loss NaN at step 3'))),
    ).toThrow(new EvaluationFailure('loss NaN at step 3'));
    expect(() => decodeResult('r-1.7', { ...(sent as object), formatVersion: 9 })).toThrow(
      'the result of job r-1.7 cannot be read: it has format version 9, this process reads 1',
    );
    expect(() => decodeResult('r-1.7', null)).toThrow(/result of job r-1\.7 cannot be read/);
  });
});

describe('pool slots', () => {
  it('let a run keep more evaluations in flight than the pool has workers; an aborted one leaves the line', async () => {
    const pool = createPoolEvaluator({ size: 1 });
    try {
      // The pool alone refuses work past its bounded queue ...
      const raw = await Promise.allSettled(
        Array.from({ length: 4 }, (_, i) => pool.evaluate(genotype, config, i)),
      );
      expect(raw.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      // ... behind the slots, every one is evaluated, in the order asked.
      const evaluate = limitConcurrency(pool.evaluate, 1);
      const order: number[] = [];
      const abort = new AbortController();
      const asked = Array.from({ length: 5 }, (_, i) =>
        evaluate(
          genotype,
          config,
          i,
          (p) => {
            if (p.phase === 'data' && p.done === 0) order.push(i);
          },
          i === 3 ? { signal: abort.signal } : {},
        ),
      );
      abort.abort();
      const settled = await Promise.allSettled(asked);
      expect(settled.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect(order).toEqual([0, 1, 2, 4]);
      expect(pool.pending()).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
