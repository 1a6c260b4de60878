/**
 * The local pool of evaluation workers (piscina worker threads running the real evaluator):
 * the same results as in this thread, cancellation that frees the worker, and a search whose stored
 * run does not depend on how many candidates are evaluated at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalConfigSchema, type Scores } from '../../src/core/evaluation.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import type { SearchConfigInput } from '../../src/core/search-config.js';
import { evaluateGenotype } from '../../src/evaluator/evaluate.js';
import { createPoolEvaluator } from '../../src/placement/worker-pool.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { comparableRun } from '../helpers/run-compare.js';
import { TINY_EVALUATION, tinyEvaluation } from '../helpers/tiny-evaluation.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-pool-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const evaluation = TINY_EVALUATION;
const config = tinyEvaluation();
const genotype = getPublishedGenotype('DARTS_V2');

const withoutTimes = ({ seconds: _s, ...rest }: Scores) => rest;

describe('the local worker pool', () => {
  it('gives the scores and weights of an evaluation in this thread', async () => {
    const pool = createPoolEvaluator({ size: 2 });
    try {
      const phases = new Set<string>();
      const [inPool, other] = await Promise.all([
        pool.evaluate(genotype, config, 5, (p) => phases.add(p.phase), { keepWeights: true }),
        pool.evaluate(getPublishedGenotype('PDARTS'), config, 6),
      ]);
      const here = await evaluateGenotype(genotype, config, 5, undefined, { keepWeights: true });
      expect(withoutTimes(inPool.scores)).toEqual(withoutTimes(here.scores));
      expect(Buffer.from(inPool.weights!).equals(Buffer.from(here.weights!))).toBe(true);
      expect(other.weights).toBeUndefined();
      expect([...phases]).toEqual(expect.arrayContaining(['data', 'train', 'attack']));
      // The candidate's own errors keep their meaning across the thread boundary.
      await expect(pool.evaluate(genotype, { ...config, batchSize: -1 }, 5)).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringContaining('batchSize'),
      });
    } finally {
      await pool.close();
    }
  });

  it('aborts an evaluation in flight at once and keeps serving', async () => {
    const pool = createPoolEvaluator({ size: 1 });
    try {
      const abort = new AbortController();
      const long = evalConfigSchema.parse({ ...evaluation, epochs: 200, trainSize: 256 });
      let abortedAt = 0;
      const running = pool.evaluate(
        genotype,
        long,
        1,
        (p) => {
          if (p.phase === 'train' && p.done > 0 && !abort.signal.aborted) {
            abortedAt = performance.now();
            abort.abort();
          }
        },
        { signal: abort.signal },
      );
      await expect(running).rejects.toThrow(/abort/i);
      expect(performance.now() - abortedAt).toBeLessThan(2000);
      expect(pool.pending()).toBe(0);
      const next = await pool.evaluate(genotype, config, 5);
      expect(next.scores.clean.n).toBe(32);
    } finally {
      await pool.close();
    }
  });

  it('a search stores the same run with 2 pool workers as with one evaluation at a time', async () => {
    const search: SearchConfigInput = {
      evaluator: 'real',
      population: 4,
      generations: 2,
      seed: 3,
      evaluation: { ...evaluation, attacks: [...evaluation.attacks] },
    };
    const one = join(root, 'one');
    const sequential = await SearchRun.create(search, {
      storage: new FileRunStorage(one),
      runId: 'r',
      evaluate: evaluateGenotype,
    });
    await sequential.run();

    const two = join(root, 'two');
    const pool = createPoolEvaluator({ size: 2 });
    try {
      const parallel = await SearchRun.create(search, {
        storage: new FileRunStorage(two),
        runId: 'r',
        evaluate: pool.evaluate,
        concurrency: 2,
      });
      let most = 0;
      parallel.on(() => {
        most = Math.max(most, pool.pending());
      });
      await parallel.run();
      expect(parallel.status()).toBe('completed');
      expect(most).toBe(2);
    } finally {
      await pool.close();
    }
    const strip = (run: Awaited<ReturnType<typeof comparableRun>>) => ({
      ...run,
      evaluations: run.evaluations.map((e) => ({
        ...e,
        scores: e.scores ? withoutTimes(e.scores) : undefined,
      })),
    });
    expect(strip(await comparableRun(two, 'r'))).toEqual(strip(await comparableRun(one, 'r')));
  });
});
