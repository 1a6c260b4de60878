/**
 * Search overhead benchmark (part of `npm run bench`, see bench/bench.ts): the cost of the search itself, apart from
 * training. (1) non-dominated sort plus crowding distance of every front for 10 000 random points with
 * 3 objectives (goal < 100 ms); (2) time to persist one evaluation to a run that already stores 1 000
 * (goal < 5 ms); plus, for information, the atomic run.json checkpoint written at generation ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newRunFile, type RunFile } from '../src/core/records.js';
import { FileRunStorage } from '../src/store/file-run-storage.js';
import { genotypeHash } from '../src/core/canonical.js';
import { crowdingDistance } from '../src/search/nsga2/crowding-distance.js';
import { nonDominatedSort } from '../src/core/non-dominated-sort.js';
import { Rng } from '../src/core/rng.js';
import { sampleGenotype } from '../src/core/sampling.js';
import { parseSearchConfig } from '../src/core/search-config.js';
import { surrogateScores } from '../src/evaluator/surrogate.js';

export interface SearchOverheadBench {
  readonly sortAndCrowding: {
    readonly points: number;
    readonly objectives: number;
    readonly fronts: number;
    readonly medianMs: number;
    readonly goalMs: number;
    readonly meetsGoal: boolean;
  };
  readonly persistEvaluation: {
    readonly stored: number;
    readonly medianMs: number;
    readonly goalMs: number;
    readonly meetsGoal: boolean;
  };
  readonly checkpoint: { readonly medianMs: number };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The run the bench writes to, with RunSession's method names: the one place that names the store's
 * writer (it becomes `new FileRunStorage(runsDir).create(file)` when the file backend lands).
 */
/** A run held for writing through the file backend of RunStorage, as the runner holds one. */
function createSession(runsDir: string, file: RunFile) {
  return new FileRunStorage(runsDir).create(file);
}

export async function runSearchOverheadBench(
  options: { points?: number; stored?: number; repeats?: number } = {},
): Promise<SearchOverheadBench> {
  const points = options.points ?? 10_000;
  const stored = options.stored ?? 1000;
  const repeats = options.repeats ?? 7;
  const rng = Rng.fromSeed('search-overhead-bench');

  // (1) Sorting and crowding, as survival does it.
  const cloud = Array.from({ length: points }, () => [rng.next(), rng.next(), rng.next()]);
  let fronts = 0;
  const sortTimes: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const fs = nonDominatedSort(cloud);
    for (const f of fs) crowdingDistance(f.map((i) => cloud[i]!));
    sortTimes.push(performance.now() - t0);
    fronts = fs.length;
  }

  // (2) Persisting evaluations to a run with `stored` evaluations already.
  const dir = await mkdtemp(join(tmpdir(), 'robust-nas-bench-'));
  const config = parseSearchConfig({ evaluator: 'surrogate' });
  const now = new Date().toISOString();
  const file: RunFile = { ...newRunFile('bench', config), status: 'running' };
  const persistTimes: number[] = [];
  const checkpointTimes: number[] = [];
  const session = await createSession(dir, file);
  try {
    const record = (index: number) => {
      const genotype = sampleGenotype(rng);
      const scores = surrogateScores(genotype, config.evaluation);
      return {
        index,
        generation: Math.floor(index / 20),
        genotype,
        hash: genotypeHash(genotype),
        status: 'finished' as const,
        scores,
        objectives: [scores.clean.accuracy, scores.adversarial[0]!.accuracy],
        cached: false,
        seed: rng.seed32(),
        startedAt: now,
        finishedAt: now,
      };
    };
    for (let i = 0; i < stored; i++) await session.append(record(i));
    for (let r = 0; r < Math.max(repeats, 20); r++) {
      const rec = record(stored + r);
      const t0 = performance.now();
      await session.append(rec);
      persistTimes.push(performance.now() - t0);
    }
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      // Up to 50 generation summaries of 20 (storage checks that they refer to stored evaluations).
      const generations = Math.min(50, Math.floor((stored + Math.max(repeats, 20)) / 20));
      await session.update({
        generations: Array.from({ length: generations }, (_, g) => ({
          generation: g,
          population: Array.from({ length: 20 }, (_, k) => g * 20 + k),
          front: [g * 20],
          hypervolume: 0.5,
          evaluations: (g + 1) * 20,
        })),
      });
      checkpointTimes.push(performance.now() - t0);
    }
  } finally {
    await session.close();
    await rm(dir, { recursive: true, force: true });
  }
  const sortMs = round(median(sortTimes));
  const persistMs = round(median(persistTimes));
  return {
    sortAndCrowding: {
      points,
      objectives: 3,
      fronts,
      medianMs: sortMs,
      goalMs: 100,
      meetsGoal: sortMs < 100,
    },
    persistEvaluation: { stored, medianMs: persistMs, goalMs: 5, meetsGoal: persistMs < 5 },
    checkpoint: { medianMs: round(median(checkpointTimes)) },
  };
}
