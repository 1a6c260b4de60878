import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { genotypeHash } from '../../src/core/canonical.js';
import { EvaluationFailure, type Evaluate } from '../../src/core/evaluation.js';
import type { SearchEvent } from '../../src/core/events.js';
import { nonDominatedSort } from '../../src/core/non-dominated-sort.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { surrogateScores } from '../../src/evaluator/surrogate.js';
import { RunStatusError } from '../../src/store/errors.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { storedWeights } from '../../src/store/run-weights.js';
import { comparableRun, readRun } from '../helpers/run-compare.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-search-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

/** One seed per candidate: these tests check the single-seed machinery (tests/runner/resampling.test.ts: more). */
const SINGLE_SEED = { initialSeeds: 1, maxSeeds: 1 } as const;
const SMALL = {
  evaluator: 'surrogate',
  population: 8,
  generations: 5,
  seed: 11,
  resampling: SINGLE_SEED,
} as const;

async function runToEnd(
  config: Parameters<typeof SearchRun.create>[0],
  runsDir: string,
  evaluate?: Evaluate,
) {
  const run = await SearchRun.create(config, {
    storage: new FileRunStorage(runsDir),
    runId: 'x',
    ...(evaluate ? { evaluate } : {}),
  });
  const events: SearchEvent[] = [];
  run.on((e) => events.push(e));
  await run.run();
  return { run, events, data: await readRun(runsDir, 'x') };
}

/** The surrogate dressed as a 'real' evaluator, to count calls and inject failures. */
function countingEvaluate(fail?: (hash: string) => boolean, delayMs = 0) {
  const calls: string[] = [];
  const evaluate: Evaluate = async (g, config, _seed, onProgress) => {
    const hash = genotypeHash(g);
    calls.push(hash);
    onProgress?.({ phase: 'train', done: 1, total: 1 });
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (fail?.(hash)) throw new EvaluationFailure(`loss became NaN for ${hash}`);
    return { scores: { ...surrogateScores(g, config), backend: 'test' } };
  };
  return { evaluate, calls };
}

describe('SearchRun (surrogate evaluator)', () => {
  it('runs NSGA-II to completion: planned evaluations, elitist populations, exact fronts, events', async () => {
    const { run, events, data } = await runToEnd(SMALL, fresh());
    expect(run.status()).toBe('completed');
    expect(data.evaluations).toHaveLength(8 + 4 * 8);
    expect(data.generations).toHaveLength(5);
    let previous: readonly number[] = [];
    let hv = -1;
    for (const g of data.generations) {
      expect(g.population).toHaveLength(8);
      const candidates = data.evaluations
        .filter((e) => e.generation === g.generation)
        .map((e) => e.index);
      for (const i of g.population) expect([...previous, ...candidates]).toContain(i);
      previous = g.population;
      // The front is the non-dominated set of everything evaluated so far.
      const so = data.evaluations.filter((e) => e.index < g.evaluations && e.status === 'finished');
      const fronts = nonDominatedSort(
        so.map((e) => [...e.objectives!]),
        ['max', 'max'],
      );
      const expectedFront = new Set(fronts[0]!.map((k) => so[k]!.hash));
      expect(new Set(g.front.map((i) => data.evaluations[i]!.hash))).toEqual(expectedFront);
      expect(g.hypervolume).toBeGreaterThanOrEqual(hv);
      hv = g.hypervolume;
    }
    // Surrogate scores are labelled as such.
    expect(data.evaluations.every((e) => e.scores?.surrogate === true)).toBe(true);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run-status');
    expect(types.filter((t) => t === 'evaluation-started')).toHaveLength(40);
    expect(types.filter((t) => t === 'evaluation-finished')).toHaveLength(40);
    expect(types.filter((t) => t === 'generation-finished')).toHaveLength(5);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ type: 'run-status', status: 'completed', generation: 5 });
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const a = await runToEnd(SMALL, fresh());
    const b = await runToEnd(SMALL, fresh());
    const c = await runToEnd({ ...SMALL, seed: 12 }, fresh());
    const strip = (d: typeof a.data) => d.evaluations.map((e) => [e.hash, e.objectives]);
    expect(strip(a.data)).toEqual(strip(b.data));
    expect(a.data.generations).toEqual(b.data.generations);
    expect(strip(c.data)).not.toEqual(strip(a.data));
  });

  it('runs the random-search strategy on the same machinery', async () => {
    const { data } = await runToEnd({ ...SMALL, strategy: 'random' }, fresh());
    expect(data.strategy).toBe('random');
    expect(data.evaluations).toHaveLength(40);
    expect(data.generations.at(-1)!.population).toHaveLength(8);
    const nsga = await runToEnd(SMALL, fresh());
    expect(data.evaluations.slice(8).map((e) => e.hash)).not.toEqual(
      nsga.data.evaluations.slice(8).map((e) => e.hash),
    );
  });

  it('never evaluates a genotype twice: duplicates come from the cache', async () => {
    // One node, one op: the whole space is 2 genotypes per cell pair ordering -> very few distinct.
    const { evaluate, calls } = countingEvaluate();
    const { data } = await runToEnd(
      {
        evaluator: 'real',
        population: 4,
        generations: 3,
        nodes: 1,
        ops: ['skip_connect', 'max_pool_3x3'],
        maxRedraws: 3,
        resampling: SINGLE_SEED,
      },
      fresh(),
      evaluate,
    );
    expect(data.evaluations).toHaveLength(12);
    expect(new Set(calls).size).toBe(calls.length);
    const distinct = new Set(data.evaluations.map((e) => e.hash)).size;
    expect(calls).toHaveLength(distinct);
    const cached = data.evaluations.filter((e) => e.cached);
    expect(cached.length).toBe(12 - distinct);
    for (const c of cached) {
      const first = data.evaluations.find((e) => e.hash === c.hash && !e.cached)!;
      expect(c.scores).toEqual(first.scores);
      expect(c.index).toBeGreaterThan(first.index);
      // The seed stored beside a cached result is the one that produced it.
      const seedOf = (e: object) => (e as { seed?: number }).seed;
      expect(seedOf(c)).toBeDefined();
      expect(seedOf(c)).toBe(seedOf(first));
    }
  });

  it('records failed evaluations with their reason and keeps searching', async () => {
    const { evaluate } = countingEvaluate((hash) => parseInt(hash.slice(0, 2), 16) < 64);
    const { data, run } = await runToEnd({ ...SMALL, evaluator: 'real' }, fresh(), evaluate);
    expect(run.status()).toBe('completed');
    const failed = data.evaluations.filter((e) => e.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.failure).toMatch(/loss became NaN/);
      expect(f.objectives).toBeUndefined();
      for (const g of data.generations) expect(g.population).not.toContain(f.index);
    }
    expect(data.evaluations.find((e) => e.status === 'finished')!.scores!.backend).toBe('test');
  });

  it('pauses with the reason, storing nothing, when the environment fails; resume retries the candidate', async () => {
    const reference = fresh();
    await runToEnd({ ...SMALL, evaluator: 'real' }, reference, countingEvaluate().evaluate);
    const dir = fresh();
    const ok = countingEvaluate();
    let calls = 0;
    const flaky: Evaluate = async (...args) => {
      calls += 1;
      if (calls === 3) {
        throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
      }
      return ok.evaluate(...args);
    };
    const run = await SearchRun.create(
      { ...SMALL, evaluator: 'real' },
      { storage: new FileRunStorage(dir), runId: 'x', evaluate: flaky },
    );
    await run.run();
    expect(run.status()).toBe('paused');
    let data = await readRun(dir, 'x');
    expect(data.status).toBe('paused');
    expect(data.message).toBe('ENOSPC: no space left on device, write');
    expect(data.evaluations).toHaveLength(2); // the third is not stored as a failed candidate
    const resumed = await SearchRun.open('x', {
      storage: new FileRunStorage(dir),
      evaluate: flaky,
    });
    await resumed.run();
    data = await readRun(dir, 'x');
    expect(data.status).toBe('completed');
    expect(data.message).toBeUndefined();
    expect(data.evaluations.every((e) => e.status === 'finished')).toBe(true);
    expect(await comparableRun(dir, 'x')).toEqual(await comparableRun(reference, 'x'));
  });

  it('pause abandons the evaluation in flight; resuming in a new SearchRun ends like an uninterrupted run', async () => {
    const reference = fresh();
    const slow = countingEvaluate(undefined, 5);
    await runToEnd({ ...SMALL, evaluator: 'real' }, reference, slow.evaluate);

    const dir = fresh();
    const first = countingEvaluate(undefined, 5);
    const run = await SearchRun.create(
      { ...SMALL, evaluator: 'real' },
      { storage: new FileRunStorage(dir), runId: 'x', evaluate: first.evaluate },
    );
    run.on((e) => {
      if (e.type === 'evaluation-started' && e.index === 13) run.pause();
    });
    await run.run();
    expect(run.status()).toBe('paused');
    let data = await readRun(dir, 'x');
    expect(data.status).toBe('paused');
    expect(data.evaluations).toHaveLength(13); // #13 was abandoned, not stored half
    await run.close();

    const second = countingEvaluate(undefined, 5);
    const resumed = await SearchRun.open('x', {
      storage: new FileRunStorage(dir),
      evaluate: second.evaluate,
    });
    let stopped = false;
    resumed.on((e) => {
      if (e.type === 'generation-finished' && e.generation === 3 && !stopped) {
        stopped = true;
        resumed.stop();
      }
    });
    await resumed.run();
    data = await readRun(dir, 'x');
    expect(data.status).toBe('stopped');
    // run() may be called again on the same object after a stop.
    await resumed.run();
    expect(resumed.status()).toBe('completed');
    // Finished evaluations were never repeated.
    const done = new Set(first.calls.slice(0, 13));
    expect(second.calls.filter((h) => done.has(h))).toEqual([]);
    expect(await comparableRun(dir, 'x')).toEqual(await comparableRun(reference, 'x'));
  });

  it('stop() marks a paused or reopened run stopped at once; it still resumes to the same end', async () => {
    const reference = fresh();
    await runToEnd(SMALL, reference);

    const dir = fresh();
    const run = await SearchRun.create(SMALL, { storage: new FileRunStorage(dir), runId: 'x' });
    run.on((e) => {
      if (e.type === 'evaluation-finished' && e.evaluation.index === 10) run.pause();
    });
    await run.run();
    expect(run.status()).toBe('paused');
    const events: SearchEvent[] = [];
    run.on((e) => events.push(e));
    await run.stop();
    expect(run.status()).toBe('stopped');
    expect(events).toEqual([{ type: 'run-status', runId: 'x', status: 'stopped', generation: 1 }]);
    expect((await readRun(dir, 'x')).status).toBe('stopped');
    await expect(run.stop()).rejects.toBeInstanceOf(RunStatusError);
    await expect(run.stop()).rejects.toThrow(/already stopped/);

    // A run opened from disk (e.g. an interrupted one) can be stopped too, then resumed.
    const again = await SearchRun.open('x', { storage: new FileRunStorage(dir) });
    await again.run(); // resumes the stopped run...
    expect(again.status()).toBe('completed');
    await expect(again.stop()).rejects.toThrow(/completed/);
    expect(await comparableRun(dir, 'x')).toEqual(await comparableRun(reference, 'x'));

    const dir2 = fresh();
    const created = await SearchRun.create(SMALL, {
      storage: new FileRunStorage(dir2),
      runId: 'y',
    });
    await created.close();
    const reopened = await SearchRun.open('y', { storage: new FileRunStorage(dir2) });
    await reopened.stop();
    const stored = await readRun(dir2, 'y');
    expect(stored.status).toBe('stopped');
    // The folder was released: another SearchRun can open it.
    const other = await SearchRun.open('y', { storage: new FileRunStorage(dir2) });
    await other.run();
    expect(other.status()).toBe('completed');
  });

  it("needs an evaluator for 'real' runs", async () => {
    await expect(
      SearchRun.create({ evaluator: 'real' }, { storage: new FileRunStorage(fresh()) }),
    ).rejects.toBeInstanceOf(InputError);
  });

  it('refuses to create a run id that exists', async () => {
    const dir = fresh();
    const first = await SearchRun.create(SMALL, {
      storage: new FileRunStorage(dir),
      runId: 'same',
    });
    expect(first.status()).toBe('created');
    await expect(
      SearchRun.create(SMALL, { storage: new FileRunStorage(dir), runId: 'same' }),
    ).rejects.toThrow(/already exists/);
    await first.close();
  });
});

describe('trained weights of a run', () => {
  it('keeps the weights of exactly the Pareto-front members after every generation', async () => {
    const runsDir = fresh();
    const written: string[] = [];
    const frontsSeen: (readonly number[])[] = [];
    const evaluate: Evaluate = async (g, config, _seed, _progress, options) => {
      const scores = { ...surrogateScores(g, config), backend: 'test' };
      if (!options?.keepWeights) return { scores };
      written.push(genotypeHash(g));
      return { scores, weights: new TextEncoder().encode(genotypeHash(g)) };
    };
    const run = await SearchRun.create(
      { ...SMALL, evaluator: 'real' },
      { storage: new FileRunStorage(runsDir), runId: 'x', evaluate },
    );
    const dir = join(runsDir, 'x');
    run.on((e) => {
      if (e.type === 'generation-finished') frontsSeen.push(e.front);
    });
    await run.run();
    const data = await readRun(runsDir, 'x');
    // Every trained (non-cached) evaluation was asked for its weights.
    const trained = data.evaluations.filter((e) => !e.cached);
    expect(written).toEqual(trained.map((e) => e.hash));
    // What is left is the final front, each file holding its own network.
    const front = data.generations.at(-1)!.front;
    expect(frontsSeen.at(-1)).toEqual(front);
    expect(await storedWeights(dir)).toEqual([...front].sort((a, b) => a - b));
    for (const i of front) {
      expect(readFileSync(join(dir, 'weights', `${i}.weights`), 'utf8')).toBe(
        data.evaluations[i]!.hash,
      );
    }
  });
});

describe('search config', () => {
  it('defaults to clean + PGD accuracy at the data set eps, both maximised', () => {
    const c = parseSearchConfig({});
    expect(c).toMatchObject({
      strategy: 'nsga2',
      population: 20,
      offspring: 20,
      generations: 10,
      seed: 0,
      nodes: 4,
      evaluator: 'real',
    });
    expect(c.objectives).toEqual([
      { metric: 'clean', direction: 'max' },
      { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
    ]);
    const cifar = parseSearchConfig({ evaluation: { dataset: 'cifar10' } });
    expect(cifar.objectives[1]!.eps).toBeCloseTo(2 / 255);
    expect(cifar.evaluation.attacks).toEqual([
      { name: 'pgd', eps: 2 / 255, steps: 10, restarts: 1 },
    ]);
  });

  it('takes the default adversarial objective from the first attack the evaluation names', () => {
    const c = parseSearchConfig({
      evaluation: {
        attacks: [
          { name: 'fgsm', eps: 0.05 },
          { name: 'pgd', eps: 0.1 },
        ],
      },
    });
    expect(c.objectives[1]).toEqual({
      metric: 'adversarial',
      attack: 'fgsm',
      eps: 0.05,
      direction: 'max',
    });
  });

  it('names the field in errors', () => {
    expect(() => parseSearchConfig({ population: 0 })).toThrow(/population/);
    expect(() => parseSearchConfig({ evaluation: { epochs: 'x' } })).toThrow(/evaluation\.epochs/);
    expect(() =>
      parseSearchConfig({ objectives: [{ metric: 'accuracy', direction: 'max' }] }),
    ).toThrow(/objectives\.0\.metric/);
    expect(() =>
      parseSearchConfig({
        objectives: [{ metric: 'adversarial', attack: 'fgsm', eps: 0.2, direction: 'max' }],
        evaluation: { attacks: [{ name: 'pgd', eps: 0.1 }] },
      }),
    ).toThrow(/objectives\.0: fgsm@0\.2 is not among evaluation\.attacks/);
    expect(() => parseSearchConfig({ frobnicate: 1 })).toThrow(/frobnicate/);
  });

  it('supports minimised cost objectives with a reference derived from generation 0', async () => {
    const { data } = await runToEnd(
      {
        ...SMALL,
        objectives: [
          { metric: 'hrs', direction: 'max' },
          { metric: 'params', direction: 'min' },
        ],
      },
      fresh(),
    );
    expect(data.reference![0]).toBe(0);
    const gen0 = data.evaluations.filter((e) => e.generation === 0).map((e) => e.objectives![1]!);
    expect(data.reference![1]).toBeCloseTo(1.1 * Math.max(...gen0));
    expect(data.generations.at(-1)!.hypervolume).toBeGreaterThan(0);
  });
});

describe('a run killed after its last checkpoint', () => {
  it('is finished by resume instead of staying interrupted', async () => {
    const dir = fresh();
    const { data } = await runToEnd(SMALL, dir);
    expect(data.status).toBe('completed');
    // As if the process died between the last checkpoint and storing 'completed'.
    const storage = new FileRunStorage(dir);
    const session = await storage.open('x');
    await session.update({ status: 'running' });
    await session.close();
    expect((await readRun(dir, 'x')).status).toBe('interrupted');
    const resumed = await SearchRun.open('x', { storage });
    await resumed.run();
    expect(resumed.status()).toBe('completed');
    const after = await readRun(dir, 'x');
    expect(after.status).toBe('completed');
    expect(after.evaluations).toEqual(data.evaluations); // nothing evaluated again
  });
});
