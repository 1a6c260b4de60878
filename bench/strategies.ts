/**
 * Allocation strategies on the noisy test bed (part of `npm run bench`, `--only strategies`): the
 * surrogate evaluator with seed noise calibrated to the ICCs measured on the demo's settings (clean
 * about 0.5, PGD about 0.17; the seed's common effect a sixth of PGD's seed variance), whose noise-free
 * ("true") figures are known. Each strategy runs a real search (SearchRun, file storage in a temp
 * folder) over `repeats` search seeds; for each, the front it returns is judged on the true figures:
 * its true hypervolume (reference point: 0 accuracy) and the share of its members that no candidate
 * the search evaluated truly dominates. Means with standard errors over the repeats.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candidateEstimates } from '../src/core/candidates.js';
import { meanAndStderr } from '../src/core/noise-stats.js';
import { hypervolume } from '../src/core/hypervolume.js';
import { nonDominatedSort } from '../src/core/non-dominated-sort.js';
import { objectiveDirections, objectiveValues, referencePoint } from '../src/core/objectives.js';
import { parseSearchConfig, type SearchConfigInput } from '../src/core/search-config.js';
import { surrogateScores } from '../src/evaluator/surrogate.js';
import { SearchRun } from '../src/runner/search-run.js';
import { FileRunStorage } from '../src/store/file-run-storage.js';

/** The test bed's noise: the ICCs measured on the demo's settings (README, Noise and the defaults). */
export const TEST_BED_ICC = { clean: 0.5, robust: 0.17, common: 0.17 } as const;

/** The demo's search shape on the surrogate test bed. */
const BASE: SearchConfigInput = {
  evaluator: 'surrogate',
  population: 8,
  surrogateIcc: TEST_BED_ICC,
  evaluation: {
    valSize: 500,
    attacks: [{ name: 'pgd', eps: 0.1, steps: 5, restarts: 1 }],
  },
};

export interface StrategySpec {
  readonly name: string;
  readonly config: SearchConfigInput;
}

/** The strategies compared; the first is today's default (the demo's repeated evaluation). */
export const STRATEGIES: readonly StrategySpec[] = [
  {
    name: 'survivors up to 12 seeds, 13 generations (today: the demo)',
    config: { ...BASE, generations: 13, resampling: { initialSeeds: 1, maxSeeds: 12 } },
  },
  {
    name: 'survivors up to 12 seeds, 5 generations (the racing budget)',
    config: { ...BASE, generations: 5, resampling: { initialSeeds: 1, maxSeeds: 12 } },
  },
  {
    name: 'racing 4 per generation, 7 generations',
    config: {
      ...BASE,
      generations: 7,
      resampling: { initialSeeds: 1, maxSeeds: 12, allocation: 'racing', budget: 4 },
    },
  },
  {
    name: 'racing 4 per generation + common seeds, 7 generations',
    config: {
      ...BASE,
      generations: 7,
      resampling: {
        initialSeeds: 1,
        maxSeeds: 12,
        allocation: 'racing',
        budget: 4,
        commonSeeds: true,
      },
    },
  },
];

interface Figure {
  readonly mean: number;
  readonly stderr: number;
}

export interface StrategyResult {
  readonly name: string;
  /** Evaluations per search (mean over repeats). */
  readonly evaluations: number;
  readonly repeats: number;
  readonly trueHypervolume: Figure;
  readonly trulyNonDominatedShare: Figure;
  /** Front members per search (mean). */
  readonly frontSize: number;
}

/** One search of `spec` with seed `seed`, judged on the true figures. */
async function judgeOne(spec: StrategySpec, seed: number, dir: string) {
  const config = parseSearchConfig({ ...spec.config, seed });
  const storage = new FileRunStorage(dir);
  const runId = `s${seed}`;
  const run = await SearchRun.create(config, { storage, runId });
  await run.run();
  const stored = await storage.read(runId);
  const last = stored.file.generations.at(-1)!;
  const byIndex = new Map(stored.evaluations.map((r) => [r.index, r]));
  const truth = (hash: string) => {
    const r = stored.evaluations.find((e) => e.hash === hash)!;
    return objectiveValues(config.objectives, surrogateScores(r.genotype, config.evaluation));
  };
  const frontHashes = [...new Set(last.front.map((i) => byIndex.get(i)!.hash))];
  const all = [...candidateEstimates(stored.evaluations, config.objectives).keys()];
  const directions = objectiveDirections(config.objectives);
  const allTrue = all.map(truth);
  const firstFront = new Set(nonDominatedSort(allTrue, directions)[0]!.map((k) => all[k]!));
  const frontTrue = frontHashes.map(truth);
  return {
    evaluations: stored.evaluations.length,
    hv: hypervolume(frontTrue, referencePoint(config.objectives, []), directions),
    share: frontHashes.filter((h) => firstFront.has(h)).length / Math.max(1, frontHashes.length),
    frontSize: frontHashes.length,
  };
}

export async function runStrategiesBench(
  repeats: number,
  strategies: readonly StrategySpec[] = STRATEGIES,
  onLine: (line: string) => void = () => {},
): Promise<StrategyResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'robust-nas-strategies-'));
  try {
    const results: StrategyResult[] = [];
    for (const [s, spec] of strategies.entries()) {
      const runs = [];
      for (let seed = 1; seed <= repeats; seed++) {
        runs.push(await judgeOne(spec, seed, join(dir, String(s))));
      }
      const result: StrategyResult = {
        name: spec.name,
        evaluations: runs.reduce((a, r) => a + r.evaluations, 0) / runs.length,
        repeats,
        trueHypervolume: meanAndStderr(runs.map((r) => r.hv)),
        trulyNonDominatedShare: meanAndStderr(runs.map((r) => r.share)),
        frontSize: runs.reduce((a, r) => a + r.frontSize, 0) / runs.length,
      };
      onLine(
        `${result.name}: ${result.evaluations.toFixed(0)} evaluations, true HV ${result.trueHypervolume.mean.toFixed(4)} ± ${result.trueHypervolume.stderr.toFixed(4)}, truly non-dominated ${(100 * result.trulyNonDominatedShare.mean).toFixed(0)}% ± ${(100 * result.trulyNonDominatedShare.stderr).toFixed(0)}% (front ${result.frontSize.toFixed(1)})`,
      );
      results.push(result);
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
