/**
 * Repeated evaluation in the search: each new candidate is evaluated with `initialSeeds` seeds, each
 * survivor gets one more per generation up to `maxSeeds`, and a candidate's objectives are the means
 * over its seeds. Checked with the surrogate given seed-dependent noise.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  candidateEstimates,
  frontMembers,
  pooledSeedVariance,
  seedIndexOf,
} from '../../src/core/candidates.js';
import { genotypeHash } from '../../src/core/canonical.js';
import type { Evaluate, Scores } from '../../src/core/evaluation.js';
import { paretoFront } from '../../src/core/front.js';
import { meanAndStderr, noiseStats, reliabilityAt } from '../../src/core/noise-stats.js';
import type { StoredEvaluation } from '../../src/core/records.js';
import { runNoise } from '../../src/core/run-noise.js';
import {
  DEFAULT_RESAMPLING,
  parseSearchConfig,
  plannedEvaluations,
  type SearchConfigInput,
} from '../../src/core/search-config.js';
import { surrogateScores } from '../../src/evaluator/surrogate.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { comparableRun, readRun } from '../helpers/run-compare.js';
import { makeRecords } from '../helpers/run-records.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-resampling-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

const NOISE = 0.05;

/** The noisy surrogate dressed as a 'real' evaluator (so wrappers can be planted), with a delay. */
function noisyEvaluate(delayOf: (hash: string, seed: number) => number = () => 0): Evaluate {
  return async (g, config, seed, onProgress) => {
    const ms = delayOf(genotypeHash(g), seed);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    onProgress?.({ phase: 'train', done: 1, total: 1 });
    return { scores: { ...surrogateScores(g, config, { sd: NOISE, seed }), backend: 'test' } };
  };
}

async function runToEnd(
  config: SearchConfigInput,
  runsDir: string,
  evaluate: Evaluate,
  concurrency = 1,
) {
  const run = await SearchRun.create(config, {
    storage: new FileRunStorage(runsDir),
    runId: 'x',
    evaluate,
    concurrency,
  });
  await run.run();
  expect(run.status()).toBe('completed');
  return readRun(runsDir, 'x');
}

const BASE: SearchConfigInput = {
  evaluator: 'real',
  population: 8,
  generations: 6,
  seed: 21,
  resampling: { initialSeeds: 1, maxSeeds: 3 },
};

describe('the resampling config', () => {
  it('defaults to DEFAULT_RESAMPLING for a new config and checks its bounds', () => {
    expect(parseSearchConfig({}).resampling).toEqual(DEFAULT_RESAMPLING);
    expect(parseSearchConfig({ resampling: { initialSeeds: 2, maxSeeds: 5 } }).resampling).toEqual({
      initialSeeds: 2,
      maxSeeds: 5,
    });
    expect(() => parseSearchConfig({ resampling: { initialSeeds: 3, maxSeeds: 2 } })).toThrow(
      /resampling\.maxSeeds: maxSeeds must be at least initialSeeds/,
    );
    expect(() => parseSearchConfig({ resampling: { initialSeeds: 0, maxSeeds: 2 } })).toThrow(
      /resampling\.initialSeeds/,
    );
    expect(() => parseSearchConfig({ resampling: { initialSeeds: 1, maxSeeds: 33 } })).toThrow(
      /resampling\.maxSeeds/,
    );
    expect(() => parseSearchConfig({ resampling: { initialSeeds: 1 } })).toThrow(
      /resampling\.maxSeeds/,
    );
    // The plan is an upper bound: every survivor re-evaluated in every later generation.
    const c = parseSearchConfig({ population: 4, offspring: 3, generations: 3 });
    expect(plannedEvaluations(c)).toBe(4 + 2 * (3 + 4));
    expect(plannedEvaluations({ ...c, resampling: { initialSeeds: 2, maxSeeds: 2 } })).toBe(
      8 + 2 * 6,
    );
  });
});

describe('the noise estimate of a run', () => {
  it("is the one-way ANOVA of the last population's re-evaluated genotypes, or says why there is none", () => {
    const objectives = parseSearchConfig({}).objectives;
    expect(runNoise([], objectives, []).reason).toBe('no finished generation yet');
    // Three genotypes: A with seeds (0.8, 0.9) / (0.3, 0.4), B with (0.6, 0.7) / (0.2, 0.2),
    // C with one seed; a cached copy of A's first seed does not count again.
    const [a, b, c] = makeRecords(3);
    const seed = (
      r: StoredEvaluation,
      index: number,
      seedIndex: number,
      v: number[],
      cached = false,
    ) => ({ ...r, index, seedIndex, objectives: v, cached }) as StoredEvaluation;
    const records = [
      seed(a!, 0, 0, [0.8, 0.3]),
      seed(b!, 1, 0, [0.6, 0.2]),
      seed(c!, 2, 0, [0.5, 0.1]),
      seed(a!, 3, 1, [0.9, 0.4]),
      seed(a!, 4, 0, [0.8, 0.3], true),
    ];
    const summary = (population: number[]) => ({
      generation: 1,
      population,
      front: [0],
      hypervolume: 0,
      evaluations: records.length,
    });
    const one = runNoise(records, objectives, [summary([0, 1, 2])]);
    expect(one.reevaluated).toBe(1);
    expect(one.objectives).toEqual([]);
    expect(one.reason).toMatch(/not enough re-evaluated candidates yet \(1 of the 2/);
    records.push(seed(b!, 5, 1, [0.7, 0.2]));
    const two = runNoise(records, objectives, [summary([0, 1, 2])]);
    expect(two).toMatchObject({ generation: 1, survivors: 3, reevaluated: 2, values: 4, seeds: 2 });
    const expected = noiseStats([
      [0.8, 0.9],
      [0.6, 0.7],
    ]);
    expect(two.objectives[0]).toEqual({
      objective: 'clean',
      icc: expected.icc,
      withinSd: expected.withinSd,
      betweenSd: expected.betweenSd,
      reliability: reliabilityAt(expected.icc, 2),
      seedsFor08: expected.seedsFor08,
    });
    expect(two.objectives[1]!.objective).toBe('pgd@0.1');
    // Candidate means and errors behind it.
    const est = candidateEstimates(records, objectives);
    expect(est.get(a!.hash)).toMatchObject({ index: 0, seeds: 2, evaluatedSeeds: 2 });
    expect(est.get(a!.hash)!.mean[0]).toBeCloseTo(0.85, 12);
    expect(est.get(c!.hash)).toMatchObject({ seeds: 1, mean: [0.5, 0.1] });
  });
});

describe('repeated evaluation in the search', () => {
  it('evaluates new candidates with initialSeeds seeds and survivors once more per generation', async () => {
    const config = { ...BASE, resampling: { initialSeeds: 2, maxSeeds: 4 } };
    const data = await runToEnd(config, fresh(), noisyEvaluate());
    const parsed = parseSearchConfig(config);
    const ev = data.evaluations;
    // Every genotype's seeds are numbered 0, 1, ... without gaps, each stored once (cached copies
    // repeat a seed already stored).
    const seedsOf = new Map<string, number[]>();
    for (const e of ev.filter((e) => !e.cached)) {
      seedsOf.set(e.hash, [...(seedsOf.get(e.hash) ?? []), seedIndexOf(e)]);
    }
    for (const seeds of seedsOf.values()) {
      expect(seeds).toEqual([...seeds.keys()]);
      expect(seeds.length).toBeGreaterThanOrEqual(2);
      expect(seeds.length).toBeLessThanOrEqual(4);
    }
    // Generation g (>= 1) re-evaluates exactly the survivors of g - 1 that had fewer than 4 seeds.
    for (const summary of data.generations.slice(0, -1)) {
      const g = summary.generation + 1;
      const before = ev.filter((e) => e.generation < g);
      const est = candidateEstimates(before, parsed.objectives);
      const expected = [
        ...new Set(
          summary.population.map((i) => ev[i]!.hash).filter((h) => est.get(h)!.evaluatedSeeds < 4),
        ),
      ].sort();
      const reevaluated = ev.filter((e) => e.generation === g && seedIndexOf(e) >= 2);
      expect(reevaluated.map((e) => e.hash).sort()).toEqual(expected);
      for (const e of reevaluated) expect(seedIndexOf(e)).toBe(est.get(e.hash)!.evaluatedSeeds);
      // Offspring: 8 candidates with 2 seeds each, stored first.
      const offspring = ev.filter((e) => e.generation === g).slice(0, 16);
      expect(offspring.map(seedIndexOf)).toEqual(Array.from({ length: 16 }, (_, k) => k % 2));
    }
    // Survivors of the first generations reach 4 seeds.
    const est = candidateEstimates(ev, parsed.objectives);
    expect([...est.values()].some((e) => e.seeds === 4)).toBe(true);
    // Different seeds give different figures (the noise is seed-dependent).
    const four = [...est.values()].find((e) => e.seeds === 4)!;
    expect(new Set(four.values.map((v) => v[0])).size).toBeGreaterThan(1);
  });

  it('means converge to the noiseless figure as seeds accumulate; errors carry n', async () => {
    const config = { ...BASE, generations: 10, resampling: { initialSeeds: 1, maxSeeds: 8 } };
    const data = await runToEnd(config, fresh(), noisyEvaluate());
    const parsed = parseSearchConfig(config);
    const est = [...candidateEstimates(data.evaluations, parsed.objectives).values()];
    const many = est.filter((e) => e.seeds >= 6);
    expect(many.length).toBeGreaterThanOrEqual(4);
    const pooled = pooledSeedVariance(est, 2)[0]!;
    // Objective 0 is clean accuracy: the surrogate adds N(0, NOISE) to it (no clamping here).
    const truth = (e: (typeof est)[number]) =>
      surrogateScores(e.genotype, parsed.evaluation).clean.accuracy;
    const errFirst = many.map((e) => Math.abs(e.values[0]![0]! - truth(e)));
    const errMean = many.map((e) => Math.abs(e.mean[0]! - truth(e)));
    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    // One seed is off by about NOISE * 0.8; the mean of >= 6 by about a third of that.
    expect(avg(errMean)).toBeLessThan(avg(errFirst));
    expect(avg(errMean)).toBeLessThan(0.6 * NOISE);
    for (const e of many) {
      // The standard error is the between-seed one, floored by the binomial error at n = 1000 and
      // by the run's pooled seed variance over the candidate's seeds...
      const between = meanAndStderr(e.values.map((v) => v[0]!)).stderr;
      expect(e.stderr[0]).toBeCloseTo(
        Math.max(
          between,
          Math.sqrt((e.mean[0]! * (1 - e.mean[0]!)) / 1000),
          Math.sqrt(pooled / e.seeds),
        ),
        12,
      );
      // ... close to NOISE / sqrt(seeds) (within a factor 2.5: a standard error of 6+ draws).
      expect(e.stderr[0]).toBeGreaterThan(NOISE / Math.sqrt(e.seeds) / 2.5);
      expect(e.stderr[0]).toBeLessThan((NOISE / Math.sqrt(e.seeds)) * 2.5);
    }
    // Single-seed candidates carry the run's seed noise (the pooled variance), not only the
    // binomial error of one evaluation (n = 1000 images): their error bars tell the truth.
    const one = est.find((e) => e.seeds === 1)!;
    const p = one.mean[0]!;
    expect(one.stderr[0]).toBeCloseTo(
      Math.max(Math.sqrt((p * (1 - p)) / 1000), Math.sqrt(pooled)),
      12,
    );
    expect(one.stderr[0]).toBeGreaterThan(NOISE / 2);
    expect(one.stderr[0]).toBeLessThan(NOISE * 2);
    // The noise estimate sees mostly seed noise in clean accuracy of the same-looking survivors.
    const noise = runNoise(data.evaluations, parsed.objectives, data.generations);
    expect(noise.reevaluated).toBeGreaterThanOrEqual(2);
    expect(noise.objectives).toHaveLength(2);
    expect(noise.objectives[0]!.withinSd).toBeGreaterThan(NOISE / 2);
    expect(noise.objectives[0]!.withinSd).toBeLessThan(NOISE * 2);
    expect(noise.objectives[0]!.reliability).toBeGreaterThanOrEqual(0);
    expect(noise.objectives[0]!.reliability).toBeLessThanOrEqual(1);
  });

  it('a lucky outlier is on the front after generation 0 and leaves it once re-evaluated', async () => {
    const config = { ...BASE, generations: 5, resampling: { initialSeeds: 1, maxSeeds: 4 } };
    const parsed = parseSearchConfig(config);
    // Generation 0's candidates do not depend on scores: find them with a plain run.
    const plain = await runToEnd(config, fresh(), noisyEvaluate());
    const gen0 = plain.evaluations.filter((e) => e.generation === 0);
    // The outlier: the generation-0 candidate whose noiseless figures sum lowest (a poor one).
    const noiseless = (e: (typeof gen0)[number]) => {
      const s = surrogateScores(e.genotype, parsed.evaluation);
      return s.clean.accuracy + s.adversarial[0]!.accuracy;
    };
    const victim = [...gen0].sort((a, b) => noiseless(a) - noiseless(b))[0]!;
    const best = [0, 1].map((k) => Math.max(...gen0.map((e) => e.objectives![k]!)));
    const lucky = best.map((v) => Math.min(0.99, v + 0.03));
    const noisy = noisyEvaluate();
    let first = true;
    const planted: Evaluate = async (g, cfg, seed, progress, options) => {
      const result = await noisy(g, cfg, seed, progress, options);
      if (genotypeHash(g) !== victim.hash || !first) return result;
      first = false; // its first seed only
      const s = result.scores;
      const scores: Scores = {
        ...s,
        clean: { ...s.clean, accuracy: lucky[0]! },
        adversarial: s.adversarial.map((a, k) => (k === 0 ? { ...a, accuracy: lucky[1]! } : a)),
      };
      return { scores };
    };
    const data = await runToEnd(config, fresh(), planted);
    const ev = data.evaluations;
    const victimIndex = ev.find((e) => e.hash === victim.hash)!.index;
    // After generation 0 it dominates everyone: the front is the outlier alone.
    expect(data.generations[0]!.front).toEqual([victimIndex]);
    // It survives and is re-evaluated in each later generation until it has 4 seeds or dies out.
    const finalMembers = frontMembers(ev, parsed.objectives, data.generations.at(-1)!.front);
    expect(finalMembers.map((m) => m.hash)).not.toContain(victim.hash);
    const est = candidateEstimates(ev, parsed.objectives).get(victim.hash)!;
    expect(est.seeds).toBeGreaterThanOrEqual(2);
    expect(est.values[0]).toEqual(lucky);
    // Its mean is the mean of its seeds, well below the lucky first figure.
    expect(est.mean[0]).toBeCloseTo(est.values.reduce((s, v) => s + v[0]!, 0) / est.seeds, 12);
    expect(est.mean[1]).toBeLessThan(lucky[1]!);
    // The generation that re-evaluated it is the one after which it left the front.
    const left = data.generations.findIndex((g) => !g.front.includes(victimIndex));
    expect(left).toBeGreaterThanOrEqual(1);
    const reevaluatedIn = ev.filter((e) => e.hash === victim.hash && seedIndexOf(e) === 1)[0]!;
    expect(reevaluatedIn.generation).toBeLessThanOrEqual(left);
    // The stored fronts are core's paretoFront on the means at each generation's end.
    for (const g of data.generations) {
      expect(g.front).toEqual(
        paretoFront(
          ev.filter((e) => e.index < g.evaluations),
          parsed.objectives,
        ),
      );
    }
  });

  it('stores the same run whatever the concurrency and the order evaluations finish in', async () => {
    const config = { ...BASE, generations: 4 };
    const one = fresh();
    await runToEnd(config, one, noisyEvaluate());
    const two = fresh();
    // Delays that differ per (genotype, seed): evaluations finish out of order.
    const jitter = (hash: string, seed: number) => (parseInt(hash.slice(0, 4), 16) + seed) % 7;
    await runToEnd(config, two, noisyEvaluate(jitter), 2);
    const three = fresh();
    await runToEnd(config, three, noisyEvaluate(jitter), 3);
    const expected = await comparableRun(one, 'x');
    expect(expected.evaluations.some((e) => (e.seedIndex ?? 0) > 0)).toBe(true);
    expect(await comparableRun(two, 'x')).toEqual(expected);
    expect(await comparableRun(three, 'x')).toEqual(expected);
  });

  it('pausing at any evaluation and resuming in a new SearchRun ends like an uninterrupted run', async () => {
    const config = { ...BASE, generations: 4 };
    const reference = fresh();
    await runToEnd(config, reference, noisyEvaluate());
    const expected = await comparableRun(reference, 'x');
    const total = expected.evaluations.length;
    // Pause at several places: inside generation 0, among a generation's re-evaluations, at the end.
    const reevaluations = expected.evaluations.filter((e) => (e.seedIndex ?? 0) > 0);
    const at = [
      3,
      reevaluations[0]!.index,
      reevaluations[0]!.index + 1,
      reevaluations.at(-1)!.index,
      total - 1,
    ];
    const dir = fresh();
    const storage = new FileRunStorage(dir);
    const evaluate = noisyEvaluate((h, s) => (parseInt(h.slice(0, 3), 16) + s) % 3);
    let run = await SearchRun.create(config, { storage, runId: 'x', evaluate, concurrency: 2 });
    for (const index of at) {
      const r = run;
      const off = r.on((e) => {
        if (e.type === 'evaluation-started' && e.index === index) r.pause();
      });
      await r.run();
      off();
      if (r.status() === 'completed') break;
      expect(r.status()).toBe('paused');
      const stored = await readRun(dir, 'x');
      expect(stored.evaluations.length).toBeLessThanOrEqual(index + 1);
      await r.close();
      run = await SearchRun.open('x', {
        storage: new FileRunStorage(dir),
        evaluate,
        concurrency: 2,
      });
    }
    await run.run();
    expect(run.status()).toBe('completed');
    expect(await comparableRun(dir, 'x')).toEqual(expected);
  });

  it('a run stored before repeated evaluation (no resampling, no seed indices) resumes with one seed each', async () => {
    const single = { ...BASE, generations: 4, resampling: { initialSeeds: 1, maxSeeds: 1 } };
    const reference = fresh();
    await runToEnd(single, reference, noisyEvaluate());
    // The same run, paused after generation 1, then rewritten as the previous format stored it.
    const dir = fresh();
    const evaluate = noisyEvaluate();
    const run = await SearchRun.create(single, {
      storage: new FileRunStorage(dir),
      runId: 'x',
      evaluate,
    });
    run.on((e) => {
      if (e.type === 'evaluation-started' && e.generation === 2) run.pause();
    });
    await run.run();
    expect(run.status()).toBe('paused');
    await run.close();
    const runJson = join(dir, 'x', 'run.json');
    const file = JSON.parse(readFileSync(runJson, 'utf8')) as { config: Record<string, unknown> };
    delete file.config.resampling;
    writeFileSync(runJson, JSON.stringify(file));
    const journal = join(dir, 'x', 'evaluations.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    writeFileSync(
      journal,
      lines
        .map((l) => {
          const { seedIndex: _s, ...old } = JSON.parse(l) as Record<string, unknown>;
          return `${JSON.stringify(old)}\n`;
        })
        .join(''),
    );
    const reopened = await SearchRun.open('x', { storage: new FileRunStorage(dir), evaluate });
    expect(reopened.config.resampling).toEqual({ initialSeeds: 1, maxSeeds: 1 });
    await reopened.run();
    expect(reopened.status()).toBe('completed');
    const strip = (r: Awaited<ReturnType<typeof comparableRun>>) => ({
      ...r,
      evaluations: r.evaluations.map(({ seedIndex: _s, ...e }) => e),
    });
    const resumed = await comparableRun(dir, 'x');
    expect(resumed.evaluations).toHaveLength(8 * 4);
    expect(strip(resumed)).toEqual(strip(await comparableRun(reference, 'x')));
  });
});
