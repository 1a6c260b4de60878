/**
 * What the CLI shows while it works, on stderr: one bar per phase of an evaluation, and for a search
 * a generations bar and an evaluations bar fed by the run's events. Bars are drawn only on a
 * terminal (progressEnabled); otherwise a search prints one plain line per generation, and with
 * --json every event as a JSON line on stdout.
 */
import cliProgress from 'cli-progress';
import type { EvalProgress } from '../core/evaluation.js';
import type { SearchEvent, SearchEventListener } from '../core/events.js';
import { plannedEvaluations, type SearchConfig } from '../core/search-config.js';
import { createProgressBar, progressEnabled, type ProgressBar } from '../evaluator/progress.js';

/**
 * Bars on stderr, each with a label and an info field (`bars.create(total, value, {label, info})`);
 * the ETA is averaged over the last `etaBuffer` updates.
 */
export function labelledBars(etaBuffer: number): cliProgress.MultiBar {
  return new cliProgress.MultiBar(
    {
      format: ' {label} |{bar}| {value}/{total} | ETA {eta_formatted} | {info}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer,
    },
    cliProgress.Presets.shades_classic,
  );
}

/** One bar per phase of an evaluation (data, train, attack), replaced when the phase changes. */
export class PhaseBars {
  private bar?: ProgressBar;
  private phase?: string;
  update(p: EvalProgress): void {
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.phase = p.phase;
      this.bar = createProgressBar(p.phase, p.total);
    }
    this.bar?.update(p.done, p.total);
  }
  stop(): void {
    this.bar?.stop();
  }
}

/** What the progress display reads of a run: its config, where it stands, and its events. */
export interface ObservableRun {
  readonly config: SearchConfig;
  generation(): number;
  evaluationCount(): number;
  on(listener: SearchEventListener): () => void;
}

/** Shows a search's progress, fed by its events only; returns the function that detaches it. */
export function attachSearchProgress(run: ObservableRun, json: boolean): () => void {
  const total = run.config.generations;
  const planned = plannedEvaluations(run.config);
  if (json) {
    return run.on((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
  }
  if (progressEnabled()) {
    const bars = labelledBars(20);
    const gen = bars.create(total, run.generation(), { label: 'generations', info: '' });
    const evals = bars.create(planned, run.evaluationCount(), { label: 'evaluations', info: '' });
    const off = run.on((e: SearchEvent) => {
      if (e.type === 'evaluation-started') {
        evals.update({
          info: `evaluating #${e.index} (${e.inGeneration.done + 1}/${e.inGeneration.total} of generation ${e.generation})`,
        });
      } else if (e.type === 'evaluation-finished' || e.type === 'evaluation-failed') {
        evals.update(e.evaluation.index + 1, {
          info: e.type === 'evaluation-failed' ? `#${e.evaluation.index} failed` : '',
        });
      } else if (e.type === 'generation-finished') {
        gen.update(e.generation + 1, {
          info: `front ${e.front.length}, hypervolume ${e.hypervolume.toFixed(4)}`,
        });
      }
    });
    return () => {
      off();
      bars.stop();
    };
  }
  // With repeated evaluation the plan is an upper bound (survivors stop at maxSeeds or die out).
  const { initialSeeds, maxSeeds } = run.config.resampling;
  const count = (n: number) =>
    maxSeeds > initialSeeds
      ? `${n} evaluations (at most ${planned})`
      : `${n}/${planned} evaluations`;
  return run.on((e) => {
    if (e.type === 'generation-finished') {
      process.stdout.write(
        `generation ${e.generation + 1}/${total}: ${count(e.evaluations)}, front ${e.front.length}, hypervolume ${e.hypervolume.toFixed(4)}\n`,
      );
    } else if (e.type === 'evaluation-failed') {
      process.stdout.write(`evaluation ${e.evaluation.index} failed: ${e.evaluation.failure}\n`);
    }
  });
}
