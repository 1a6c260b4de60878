/**
 * A worker thread of the evaluation pool whose backend aborts is replaced, never reused. A network whose stem output is just over
 * 4 GiB (3156 images x 16x16 x 1329 channels x 4 bytes) genuinely crashes the wasm backend in a
 * fraction of a second (its 32-bit allocation wraps and the kernels write out of bounds); before,
 * the candidate was marked failed (EvaluationFailure) and every later evaluation in that worker
 * failed at once with the same error. Now the failure is the environment's (a plain Error: the run
 * stops instead of being silently poisoned), the worker is terminated, and the next evaluation runs
 * in a fresh one. A worker that exits or errors is handled the same way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { tinyEvaluation } from '../helpers/tiny-evaluation.js';

type PoolModule = typeof import('../../src/placement/worker-pool.js');

const dist = (p: string) => pathToFileURL(resolve(import.meta.dirname, '../../dist', p)).href;

const genotype = getPublishedGenotype('DARTS_V2');
const SMALL = tinyEvaluation();
/** 3 x 443 = 1329 stem channels; 3156 x 16 x 16 x 1329 x 4 bytes = 2^32 + 20480. */
const CRASHING = { ...SMALL, channels: 443, trainSize: 3156, batchSize: 3156 };

let savedBackend: string | undefined;
let dir: string;

beforeAll(async () => {
  savedBackend = process.env.ROBUST_NAS_BACKEND;
  process.env.ROBUST_NAS_BACKEND = 'wasm'; // inherited by the workers
  dir = await mkdtemp(join(tmpdir(), 'robust-nas-worker-'));
});

afterAll(async () => {
  if (savedBackend === undefined) delete process.env.ROBUST_NAS_BACKEND;
  else process.env.ROBUST_NAS_BACKEND = savedBackend;
  await rm(dir, { recursive: true, force: true });
});

describe('a worker whose backend aborts', () => {
  it('fails that evaluation as an environment error and runs the next one in a fresh worker', async () => {
    const { createPoolEvaluator } = (await import(dist('placement/worker-pool.js'))) as PoolModule;
    const worker = createPoolEvaluator({ size: 1 });
    try {
      const before = await worker.evaluate(genotype, SMALL, 1);
      let err: Error | undefined;
      await worker.evaluate(genotype, CRASHING, 1).catch((e: Error) => (err = e));
      expect(err).toBeInstanceOf(Error);
      expect(err!.name).not.toBe('EvaluationFailure');
      expect(err!.message).toMatch(/backend (crashed|aborted)/);
      expect(err!.message).toMatch(/replaced|fresh/);
      const after = await worker.evaluate(genotype, SMALL, 1);
      expect(after.scores.clean).toEqual(before.scores.clean);
    } finally {
      await worker.close();
    }
  });

  it('in this thread, is a BackendAbortError, not an EvaluationFailure', () => {
    const script = `
      const { evaluateGenotype } = await import(${JSON.stringify(dist('evaluator/evaluate.js'))});
      const { initBackend } = await import(${JSON.stringify(dist('evaluator/backend.js'))});
      await initBackend('wasm');
      const g = ${JSON.stringify(genotype)};
      try {
        await evaluateGenotype(g, ${JSON.stringify(CRASHING)}, 1);
        console.log('no error');
      } catch (err) {
        console.log(err.name);
      }
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    expect(r.stdout.trim(), r.stderr).toBe('BackendAbortError');
  });
});

describe('a worker that exits or errors', () => {
  it('fails the evaluation in flight as an environment error and is replaced', async () => {
    const { createPoolEvaluator } = (await import(dist('placement/worker-pool.js'))) as PoolModule;
    // A stand-in for evaluation-worker.js: it answers with its thread id, exits, or throws outside
    // the task (an uncaught error kills its thread), depending on the seed.
    const script = join(dir, 'fake-worker.mjs');
    await writeFile(
      script,
      `import { threadId } from 'node:worker_threads';
       export default async function (task) {
         task.progress.close();
         if (task.seed === 1) process.exit(3);
         if (task.seed === 2) {
           setTimeout(() => { throw new Error('boom'); });
           return new Promise(() => {});
         }
         return { ok: true, result: { threadId } };
       }`,
    );
    const worker = createPoolEvaluator({ size: 1, filename: script });
    const threadOf = async (seed: number) =>
      ((await worker.evaluate(genotype, SMALL, seed)) as unknown as { threadId: number }).threadId;
    try {
      const first = await threadOf(0);
      const exited = await worker.evaluate(genotype, SMALL, 1).catch((e: Error) => e);
      expect(exited).toBeInstanceOf(Error);
      expect((exited as Error).name).toBe('WorkerLostError');
      expect((exited as Error).message).toMatch(/worker was lost/);
      const second = await threadOf(0);
      expect(second).not.toBe(first);
      const errored = await worker.evaluate(genotype, SMALL, 2).catch((e: Error) => e);
      expect((errored as Error).name).toBe('WorkerLostError');
      expect((errored as Error).message).toContain('boom');
      const third = await threadOf(0);
      expect(third).not.toBe(second);
    } finally {
      await worker.close();
    }
  });
});
