/**
 * The demo search `robust-nas serve --demo` (and `npm start`) starts: the real evaluator on the
 * bundled MNIST files with a small network (SMALL_NETWORK: 4 channels, 3 cells, 4000 training
 * images, 2 epochs, 500 validation images), aimed at the first candidate scored within a minute on
 * an idle 2-core CPU. When the real
 * evaluator cannot load, the surrogate stands in (and says so).
 */
import {
  plannedEvaluations,
  searchConfigSchema,
  type SearchConfig,
  type SearchConfigInput,
} from '../core/search-config.js';
import { SMALL_NETWORK } from '../core/small-network.js';
import type { RunOverview } from '../core/run-view.js';
import { isResumable } from '../core/run-status.js';
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

/**
 * Wall-clock seconds of one demo evaluation on an idle 2-core machine, measured (README, "serve"):
 * the first evaluation was stored 16 s after `serve --demo` started on a quiet machine (load 0.4),
 * tfjs and data loading included, so this is an upper estimate of one evaluation there.
 */
export const DEMO_SECONDS_PER_EVALUATION = 16;

/** The demo's expected duration, said up front (the page and the `npm start` line). */
export interface DemoEstimate {
  /** Evaluations the demo makes at most (every survivor re-evaluated up to its maxSeeds). */
  readonly evaluations: number;
  readonly secondsPerEvaluation: number;
  readonly seconds: number;
  /** One sentence, labelled as an estimate. */
  readonly text: string;
}

function minutesText(seconds: number): string {
  const minutes = Math.round(seconds / 60 / 5) * 5;
  return minutes >= 90 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`;
}

export function demoEstimate(evaluator: 'real' | 'surrogate' = 'real', done = 0): DemoEstimate {
  const config = searchConfigSchema.parse(demoConfig(evaluator));
  const evaluations = plannedEvaluations(config);
  const per =
    evaluator === 'real' ? DEMO_SECONDS_PER_EVALUATION : config.surrogateDelayMs / 1000 + 0.05;
  const left = Math.max(0, evaluations - done);
  const seconds = per * left;
  const what =
    evaluator === 'real'
      ? `about ${minutesText(seconds)} on an idle 2-core machine (estimate: ${left} evaluations x ${per} s measured; longer on a busy one)`
      : `about ${minutesText(seconds)} (${left} surrogate evaluations)`;
  return { evaluations, secondsPerEvaluation: per, seconds, text: what };
}

export interface DemoStart {
  readonly run: RunOverview;
  /** Why the surrogate was used instead of the real evaluator, when it was. */
  readonly fallback?: string;
  /** What was done, said plainly: a new demo, or the earlier one continued (and why). */
  readonly action: 'started' | 'resumed' | 'running-elsewhere';
  readonly reason: string;
  /** How long the rest of the demo should take. */
  readonly estimate: DemoEstimate;
}

/** The stored config equals the demo's (same evaluator, same settings). */
function isDemoConfig(config: SearchConfig, evaluator: 'real' | 'surrogate'): boolean {
  const wanted = searchConfigSchema.parse(demoConfig(evaluator));
  const canonical = (v: unknown): string =>
    JSON.stringify(v, (_k, x: unknown) =>
      x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)))
        : x,
    );
  return canonical(config) === canonical(wanted);
}

/**
 * Starts the demo search on a running server, or continues the latest earlier demo of the runs
 * folder when it was paused (Ctrl-C), interrupted (killed) or never started, so that a second
 * `npm start` does not begin again from zero. A demo another process runs is left alone (nothing
 * new is started); a demo that completed or that the user stopped, or one with other settings (an
 * older version's), is kept and a new one starts. `reason` says which and why.
 */
export async function startDemo(server: RunningServer): Promise<DemoStart> {
  let fallback: string | undefined;
  try {
    // Loads tfjs and picks the backend now, so a machine where it fails falls back to the
    // surrogate, and says which backend the demo's evaluations run on.
    await loadRealEvaluate((line) => process.stderr.write(`robust-nas: ${line}\n`));
  } catch (err) {
    fallback = err instanceof Error ? err.message : String(err);
  }
  const evaluator = fallback === undefined ? 'real' : 'surrogate';
  const extra = fallback !== undefined ? { fallback } : {};
  const demos = (await server.manager.list()).filter((r) => r.name === 'demo' && !r.error);
  const latest = demos[0]; // newest first
  let why = 'no earlier demo in the runs folder';
  if (latest) {
    const projection = await server.manager.projection(latest.id).catch(() => undefined);
    const same = projection ? isDemoConfig(projection.view.run.config, evaluator) : false;
    if (!same) {
      why = `the earlier demo ${latest.id} has other settings (an older version's or the ${latest.evaluator} evaluator), so it is kept as it is`;
    } else if (latest.status === 'running') {
      return {
        run: latest,
        ...extra,
        action: 'running-elsewhere',
        reason: `demo ${latest.id} is being run by another process (another npm start?): shown here, nothing new started`,
        estimate: demoEstimate(evaluator, latest.evaluations),
      };
    } else if (latest.status === 'stopped') {
      why = `the earlier demo ${latest.id} was stopped by its user (resume it from the page to continue it)`;
    } else if (isResumable(latest.status)) {
      const run = await server.manager.resume(latest.id);
      return {
        run,
        ...extra,
        action: 'resumed',
        reason: `continuing the ${latest.status} demo ${latest.id} from ${latest.evaluations} of ${latest.plannedEvaluations} evaluations`,
        estimate: demoEstimate(evaluator, latest.evaluations),
      };
    } else {
      why = `the earlier demo ${latest.id} is ${latest.status}`;
    }
  }
  const run = await server.manager.start(demoConfig(evaluator));
  return {
    run,
    ...extra,
    action: 'started',
    reason: `new demo (${why})`,
    estimate: demoEstimate(evaluator),
  };
}
