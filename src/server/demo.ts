/**
 * The demo search `robust-nas serve --demo` (and `npm start`) starts: the real evaluator on the
 * bundled MNIST files with a small network (SMALL_NETWORK: 4 channels, 3 cells, 4000 training
 * images, 2 epochs, 500 validation images), aimed at the first candidate scored within a minute on
 * an idle 2-core CPU. When the real
 * evaluator cannot load, the surrogate stands in (and says so).
 */
import type { SearchConfigInput } from '../core/search-config.js';
import { SMALL_NETWORK } from '../core/small-network.js';
import type { RunOverview } from '../core/run-view.js';
import type { RunningServer } from './server.js';
import { loadRealEvaluate } from './search-engine.js';

/** The demo's config: a small NSGA-II over clean and PGD accuracy on MNIST. */
export function demoConfig(evaluator: 'real' | 'surrogate'): SearchConfigInput {
  return {
    name: 'demo',
    strategy: 'nsga2',
    population: 8,
    // 13 generations so that a candidate surviving from the start reaches maxSeeds 12.
    generations: 13,
    seed: 0,
    nodes: 4,
    evaluator,
    // Measured (README, "Noise and the defaults"): one PGD(0.05) evaluation on these settings has
    // ICC 0.17, so a front member's mean needs 12 seeds for a reliability of 0.7 (clean: 3).
    resampling: { initialSeeds: 1, maxSeeds: 12 },
    objectives: [
      { metric: 'clean', direction: 'max' },
      { metric: 'adversarial', attack: 'pgd', eps: 0.05, direction: 'max' },
    ],
    // eps 0.05 rather than MNIST's usual 0.1: such briefly trained networks have ~0 accuracy at
    // 0.1, a flat front. Measured with `robust-nas noise` (6 genotypes x 3 seeds, bench/noise/):
    // clean 0.96 (ICC 0.47), PGD(0.05) 0.72 (ICC 0.17; within-genotype sd 0.10); eps 0.03 was no
    // more reliable (ICC 0.18) and squeezed the front towards clean accuracy (mean 0.86).
    evaluation: {
      dataset: 'mnist',
      ...SMALL_NETWORK,
      attacks: [{ name: 'pgd', eps: 0.05, steps: 5, restarts: 1 }],
    },
    ...(evaluator === 'surrogate' ? { surrogateDelayMs: 1500 } : {}),
  };
}

export interface DemoStart {
  readonly run: RunOverview;
  /** Why the surrogate was used instead of the real evaluator, when it was. */
  readonly fallback?: string;
}

/** Starts the demo search on a running server. */
export async function startDemo(server: RunningServer): Promise<DemoStart> {
  let fallback: string | undefined;
  try {
    // Loads tfjs and picks the backend now, so a machine where it fails falls back to the
    // surrogate, and says which backend the demo's evaluations run on.
    await loadRealEvaluate((line) => process.stderr.write(`robust-nas: ${line}\n`));
  } catch (err) {
    fallback = err instanceof Error ? err.message : String(err);
  }
  const run = await server.manager.start(demoConfig(fallback === undefined ? 'real' : 'surrogate'));
  return { run, ...(fallback !== undefined ? { fallback } : {}) };
}
