/**
 * What the CLI shows while it works. Bars are drawn only on a terminal (progressEnabled); without
 * one, plain lines say the same, so a log is never silent for long:
 *   - an evaluation (`evaluate`): one bar per phase (data, train, attack) on stderr, or a line on
 *     stderr at the start of each phase and at every tenth of it;
 *   - a search: a generations bar and an evaluations bar on stderr, or one line on stdout per
 *     finished (or failed) evaluation and one per generation; with --json every event as a JSON
 *     line on stdout.
 * Generations are shown counted from 1 (src/core/generation-label.ts), as on the dashboard.
 */
import cliProgress from 'cli-progress';
import type { EvalProgress } from '../core/evaluation.js';
import type { EvaluationRecord, SearchEvent, SearchEventListener } from '../core/events.js';
import { generationLabel, generationNumber } from '../core/generation-label.js';
import { objectiveLabel } from '../core/objectives.js';
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

/** How a phase of an evaluation is said in a progress line, and what it counts. */
const PHASE_LINES: Readonly<Record<EvalProgress['phase'], { what: string; unit: string }>> = {
  data: { what: 'loading the data set', unit: '' },
  train: { what: 'training', unit: 'steps' },
  attack: { what: 'scoring (clean, then each attack)', unit: 'batches' },
};

/**
 * Progress of one evaluation: one bar per phase (data, train, attack), replaced when the phase
 * changes, on a terminal; otherwise a line per phase start and per tenth of the phase (decided by
 * the counts, so the same evaluation prints the same lines), written with `write`.
 */
export class PhaseBars {
  private bar?: ProgressBar;
  private phase?: string;
  private tenth = -1;
  private readonly lines: boolean;

  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
    lines = !progressEnabled() && !process.env.ROBUST_NAS_NO_PROGRESS,
  ) {
    this.lines = lines;
  }

  update(p: EvalProgress): void {
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.phase = p.phase;
      this.tenth = -1;
      if (!this.lines) this.bar = createProgressBar(p.phase, p.total);
    }
    if (this.lines) this.line(p);
    else this.bar?.update(p.done, p.total);
  }

  private line(p: EvalProgress): void {
    const { what, unit } = PHASE_LINES[p.phase];
    if (p.phase === 'data') {
      if (p.done === 0) this.write(`robust-nas: ${what}\n`);
      return;
    }
    const tenth = p.total > 0 ? Math.floor((10 * p.done) / p.total) : 10;
    if (tenth <= this.tenth) return;
    this.tenth = tenth;
    const percent = p.total > 0 ? Math.round((100 * p.done) / p.total) : 100;
    this.write(`robust-nas: ${what}: ${p.done}/${p.total} ${unit} (${percent}%)\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}

/** One finished or failed evaluation of a search, as a line (no newline). */
export function evaluationLine(config: SearchConfig, e: EvaluationRecord, planned: string): string {
  const where = `evaluation ${e.index + 1}${planned}, ${generationLabel(e.generation, config.generations)}`;
  const seed = e.seedIndex ? `, seed ${e.seedIndex + 1} of its genotype` : '';
  const seconds = (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000;
  const time = Number.isFinite(seconds) ? ` in ${seconds.toFixed(1)} s` : '';
  const head = `${where} (${e.hash.slice(0, 8)}${seed})`;
  if (e.status === 'failed') return `${head}: failed${time}: ${e.failure ?? 'unknown reason'}`;
  const values = config.objectives
    .map((o, i) => `${objectiveLabel(o)} ${(e.objectives?.[i] ?? Number.NaN).toFixed(4)}`)
    .join(', ');
  return `${head}: ${values}${e.cached ? ' (cached)' : time}`;
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
  const detachBars = progressEnabled() ? attachBars(run, total, planned) : undefined;
  // Lines when stdout is not a terminal (a log, a pipe; bars may be on a terminal's stderr
  // meanwhile), or when no bars are drawn.
  const detachLines =
    !process.stdout.isTTY || !detachBars ? attachLines(run, total, planned) : undefined;
  return () => {
    detachLines?.();
    detachBars?.();
  };
}

function attachBars(run: ObservableRun, total: number, planned: number): () => void {
  const bars = labelledBars(20);
  const gen = bars.create(total, run.generation(), { label: 'generations', info: '' });
  const evals = bars.create(planned, run.evaluationCount(), { label: 'evaluations', info: '' });
  const off = run.on((e: SearchEvent) => {
    if (e.type === 'evaluation-started') {
      evals.update({
        info: `evaluating #${e.index + 1} (${e.inGeneration.done + 1}/${e.inGeneration.total} of ${generationLabel(e.generation)})`,
      });
    } else if (e.type === 'evaluation-finished' || e.type === 'evaluation-failed') {
      evals.update(e.evaluation.index + 1, {
        info: e.type === 'evaluation-failed' ? `#${e.evaluation.index + 1} failed` : '',
      });
    } else if (e.type === 'generation-finished') {
      gen.update(generationNumber(e.generation), {
        info: `front ${e.front.length}, hypervolume ${e.hypervolume.toFixed(4)}`,
      });
    }
  });
  return () => {
    off();
    bars.stop();
  };
}

function attachLines(run: ObservableRun, total: number, planned: number): () => void {
  // With repeated evaluation the plan is an upper bound (survivors stop at maxSeeds or die out).
  const { initialSeeds, maxSeeds } = run.config.resampling;
  const count = (n: number) =>
    maxSeeds > initialSeeds
      ? `${n} evaluations (at most ${planned})`
      : `${n}/${planned} evaluations`;
  const of = maxSeeds > initialSeeds ? '' : ` of ${planned}`;
  return run.on((e) => {
    if (e.type === 'generation-finished') {
      process.stdout.write(
        `${generationLabel(e.generation, total)} done: ${count(e.evaluations)}, front ${e.front.length}, hypervolume ${e.hypervolume.toFixed(4)}\n`,
      );
    } else if (e.type === 'evaluation-finished' || e.type === 'evaluation-failed') {
      process.stdout.write(`${evaluationLine(run.config, e.evaluation, of)}\n`);
    }
  });
}
