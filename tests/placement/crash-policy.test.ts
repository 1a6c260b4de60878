/**
 * The placement layer's crash policy, end to end through a search: a local worker that dies every
 * time it takes one candidate's evaluation (its thread exits, as a SIGKILLed or out-of-memory
 * worker would) is replaced and the evaluation tried again; after the allowed tries the run pauses
 * with the reason, nothing is stored as the candidate failing, and a resume with healthy workers
 * ends exactly as an uninterrupted run.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genotypeHash } from '../../src/core/canonical.js';
import type { Evaluate } from '../../src/core/evaluation.js';
import { surrogateScores } from '../../src/evaluator/surrogate.js';
import { openEvaluator } from '../../src/placement/placement.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { comparableRun, readRun } from '../helpers/run-compare.js';

const dist = (p: string) => pathToFileURL(resolve(import.meta.dirname, '../../dist', p)).href;

const CONFIG = {
  evaluator: 'real',
  population: 6,
  generations: 2,
  seed: 5,
  resampling: { initialSeeds: 1, maxSeeds: 1 },
} as const;

/** The surrogate's scores, computed as a worker computes them (a 'real' evaluator for the run). */
const healthy: Evaluate = async (g, config) => ({
  scores: { ...surrogateScores(g, config), backend: 'test' },
});

let dir: string;
let script: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'robust-nas-crash-'));
  // A stand-in for evaluation-worker.js: the surrogate's scores, except that a task whose genotype
  // hash is CRASH_HASH kills its thread (exit 9), every time.
  script = join(dir, 'crashing-worker.mjs');
  await writeFile(
    script,
    `import { genotypeHash } from ${JSON.stringify(dist('core/canonical.js'))};
     import { surrogateScores } from ${JSON.stringify(dist('evaluator/surrogate.js'))};
     export default async function ({ task, progress }) {
       progress.close();
       const genotype = task.members[0].genotype;
       if (genotypeHash(genotype) === process.env.CRASH_HASH) process.exit(9);
       return { ok: true, result: { scores: { ...surrogateScores(genotype, task.config), backend: 'test' } } };
     }
     export async function warmUp() { return { thread: 0, backend: 'test' }; }`,
  );
});
afterAll(async () => {
  delete process.env.CRASH_HASH;
  await rm(dir, { recursive: true, force: true });
});

describe('a worker that dies on one candidate every time', () => {
  it('pauses the run with the reason and stores nothing as failed; a resume ends as an uninterrupted run', async () => {
    const reference = join(dir, 'reference');
    const ref = await SearchRun.create(CONFIG, {
      storage: new FileRunStorage(reference),
      runId: 'x',
      evaluate: healthy,
    });
    await ref.run();
    const refData = await readRun(reference, 'x');
    const doomed = refData.evaluations[2]!;
    process.env.CRASH_HASH = doomed.hash; // inherited by the worker threads started below

    const runs = join(dir, 'runs');
    const pool = await openEvaluator({ workers: 2 }, { workerFile: script, generationSize: 6 });
    try {
      const run = await SearchRun.create(CONFIG, {
        storage: new FileRunStorage(runs),
        runId: 'x',
        evaluate: pool.evaluate,
        concurrency: pool.concurrency,
      });
      await run.run();
      expect(run.status()).toBe('paused');
      expect(run.message()).toMatch(/died on it 3 times .*not the candidate's.*worker was lost/);
      const data = await readRun(runs, 'x');
      expect(data.status).toBe('paused');
      expect(data.evaluations.map((e) => e.hash)).toEqual(
        refData.evaluations.slice(0, 2).map((e) => e.hash),
      );
      expect(data.evaluations.every((e) => e.status === 'finished')).toBe(true);
    } finally {
      await pool.close();
    }
    const resumed = await SearchRun.open('x', {
      storage: new FileRunStorage(runs),
      evaluate: healthy,
    });
    await resumed.run();
    expect(resumed.status()).toBe('completed');
    expect(await comparableRun(runs, 'x')).toEqual(await comparableRun(reference, 'x'));
    expect(genotypeHash((await readRun(runs, 'x')).evaluations[2]!.genotype)).toBe(doomed.hash);
  }, 120_000);
});
