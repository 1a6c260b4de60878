/**
 * The one reducer: what a run looks like (RunView), built from what storage holds and advanced by
 * changes. The server keeps one RunView per run it shows and sends the same changes to the
 * dashboard, which applies them with this same function, so a client that joins late or
 * reconnects reaches the state of one that watched from the start.
 *
 * Changes are what storage records (the run file, each evaluation appended) plus, for a run
 * executing in the server's own process, what is being evaluated right now (activity). Everything
 * else a client shows (counts, progress, the current front, the hypervolume history) is derived
 * from the view by the pure functions below.
 */
import { candidateEstimates, frontMembers, type FrontMember } from './candidates.js';
import type { EvaluationProgressPhase } from './evaluation.js';
import { paretoFront } from './front.js';
import type { ObjectiveSpec } from './objectives.js';
import { runNoise, type RunNoise } from './run-noise.js';
import type { EvaluationRecord, GenerationSummary, RunFile } from './records.js';
import { isResumable, type RunStatus } from './run-status.js';
import { plannedEvaluations, type SearchConfig } from './search-config.js';

/** The stored facts of a run besides its evaluations (run.json without the RNG state). */
export interface RunHeader {
  readonly id: string;
  /** As storage reports it: a 'running' run whose process is gone is 'interrupted'. */
  readonly status: RunStatus;
  /** Why the run failed, paused or stopped, when known. */
  readonly message?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly config: SearchConfig;
  /** Generations finished (= the generation in progress). */
  readonly generation: number;
  readonly generations: readonly GenerationSummary[];
  /** Hypervolume reference point (fixed once generation 0 is done). */
  readonly reference?: readonly number[];
}

/** The header of a stored run file, with the status storage reports for it. */
export function runHeader(file: RunFile, status: RunStatus = file.status): RunHeader {
  return {
    id: file.id,
    status,
    ...(file.message !== undefined ? { message: file.message } : {}),
    createdAt: file.createdAt,
    updatedAt: file.updatedAt,
    config: file.config,
    generation: file.checkpoint.generation,
    generations: file.generations,
    ...(file.checkpoint.reference ? { reference: file.checkpoint.reference } : {}),
  };
}

/** An evaluation in flight: which phase it is in and how far along. */
export interface EvaluationActivity {
  readonly index: number;
  readonly generation: number;
  readonly phase: 'started' | EvaluationProgressPhase;
  readonly done: number;
  readonly total: number;
}

export type RunChange =
  /** run.json was written (status, checkpoint, generation summaries). */
  | { readonly type: 'run'; readonly run: RunHeader }
  /** An evaluation was appended to the run's journal. */
  | { readonly type: 'evaluation'; readonly evaluation: EvaluationRecord }
  /** An evaluation started or reported progress (only for runs executing in this process). */
  | { readonly type: 'activity'; readonly activity: EvaluationActivity };

export interface RunView {
  readonly run: RunHeader;
  /** Every evaluation stored, ascending by index. */
  readonly evaluations: readonly EvaluationRecord[];
  /** Evaluations in flight, by index. */
  readonly working: Readonly<Record<number, EvaluationActivity>>;
  /** Wall-clock ms at which the current generation was first seen working (for an ETA). */
  readonly generationStartedAt?: number;
}

export function viewOf(run: RunHeader, evaluations: readonly EvaluationRecord[]): RunView {
  const sorted = [...evaluations].sort((a, b) => a.index - b.index);
  const starts = sorted
    .filter((e) => e.generation === run.generation)
    .map((e) => Date.parse(e.startedAt))
    .filter(Number.isFinite);
  return {
    run,
    evaluations: sorted,
    working: {},
    ...(starts.length > 0 ? { generationStartedAt: Math.min(...starts) } : {}),
  };
}

function insertRecord(list: readonly EvaluationRecord[], r: EvaluationRecord): EvaluationRecord[] {
  const out = [...list];
  let at = out.length;
  while (at > 0 && out[at - 1]!.index > r.index) at -= 1;
  out.splice(at, 0, r);
  return out;
}

/** True when `change` would not alter `view` (a record already held, say). */
export function isNoop(view: RunView, change: RunChange): boolean {
  return (
    change.type === 'evaluation' &&
    view.evaluations.some((e) => e.index === change.evaluation.index)
  );
}

/** The reducer: the view after `change`, received at wall-clock ms `at`. */
export function applyChange(view: RunView, change: RunChange, at: number): RunView {
  switch (change.type) {
    case 'run': {
      const run = change.run;
      const newGeneration = run.generation !== view.run.generation;
      const { generationStartedAt: _old, ...rest } = view;
      const keepStart = !newGeneration && view.generationStartedAt !== undefined;
      return {
        ...rest,
        run,
        // Nothing is in flight once the run no longer executes.
        working: run.status === 'running' ? view.working : {},
        ...(keepStart ? { generationStartedAt: view.generationStartedAt } : {}),
      };
    }
    case 'evaluation': {
      const r = change.evaluation;
      if (isNoop(view, change)) return view;
      const working = { ...view.working };
      delete working[r.index];
      return {
        ...view,
        evaluations: insertRecord(view.evaluations, r),
        working,
        generationStartedAt: view.generationStartedAt ?? (Date.parse(r.startedAt) || at),
      };
    }
    case 'activity': {
      const a = change.activity;
      if (view.evaluations.some((e) => e.index === a.index)) return view;
      return {
        ...view,
        working: { ...view.working, [a.index]: a },
        generationStartedAt: view.generationStartedAt ?? at,
      };
    }
  }
}

/** A run as listed: its header's essentials and counts. */
export interface RunSummary {
  readonly id: string;
  readonly name?: string;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Generations finished (the initial population is generation 0). */
  readonly generation: number;
  /** Generations planned. */
  readonly generations: number;
  /** Evaluations stored. */
  readonly evaluations: number;
  readonly plannedEvaluations: number;
  readonly objectives: readonly ObjectiveSpec[];
  readonly strategy: SearchConfig['strategy'];
  readonly evaluator: SearchConfig['evaluator'];
  /** Repeated evaluation: seeds per new candidate and per survivor at most (absent when unreadable). */
  readonly resampling?: SearchConfig['resampling'];
  readonly message?: string;
  /** Set when the run cannot be read (corrupt, newer format): listed but left untouched. */
  readonly error?: string;
}

export function runSummary(run: RunHeader, evaluations: number): RunSummary {
  const c = run.config;
  return {
    id: run.id,
    ...(c.name !== undefined ? { name: c.name } : {}),
    status: run.status,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    generation: run.generation,
    generations: c.generations,
    evaluations,
    // With repeated evaluation the plan is an upper bound until the run completes.
    plannedEvaluations:
      run.status === 'completed' ? evaluations : Math.max(evaluations, plannedEvaluations(c)),
    objectives: c.objectives,
    strategy: c.strategy,
    evaluator: c.evaluator,
    resampling: c.resampling,
    ...(run.message !== undefined ? { message: run.message } : {}),
    ...(run.status === 'failed' && run.message !== undefined ? { error: run.message } : {}),
  };
}

/** A run as the runs list shows it: the summary, whether it can be resumed, whether this server runs it. */
export type RunOverview = RunSummary & {
  readonly resumable: boolean;
  readonly live: boolean;
};

export function runOverview(view: RunView, live: boolean): RunOverview {
  const summary = runSummary(view.run, view.evaluations.length);
  return { ...summary, resumable: !live && isResumable(summary.status), live };
}

/** Progress of the current generation. */
export interface GenerationProgress {
  readonly generation: number;
  /** Evaluations of this generation stored. */
  readonly done: number;
  /** Evaluations this generation runs. */
  readonly total: number;
  /** Indices of evaluations in flight. */
  readonly running: readonly number[];
  /** Wall-clock ms the generation was first seen working. */
  readonly startedAt?: number;
}

/**
 * Evaluations generation `generation` runs: its new candidates' first seeds and, after generation 0,
 * one more seed of each survivor of the previous generation that has fewer than maxSeeds (counted
 * from `view`'s evaluations of earlier generations; without a view, none).
 */
export function plannedInGeneration(
  config: SearchConfig,
  generation: number,
  view?: RunView,
): number {
  const { initialSeeds, maxSeeds } = config.resampling;
  const fresh =
    (generation === 0 ? config.population : (config.offspring ?? config.population)) * initialSeeds;
  const previous = view?.run.generations.find((s) => s.generation === generation - 1);
  if (!view || !previous || maxSeeds <= initialSeeds) return fresh;
  const before = view.evaluations.filter((e) => e.generation < generation);
  const estimates = candidateEstimates(before, config.objectives);
  const byIndex = new Map(before.map((e) => [e.index, e]));
  const again = new Set<string>();
  for (const i of previous.population) {
    const e = estimates.get(byIndex.get(i)?.hash ?? '');
    if (e && e.seeds > 0 && e.evaluatedSeeds < maxSeeds) again.add(e.hash);
  }
  return fresh + again.size;
}

export function generationProgress(view: RunView): GenerationProgress {
  // Once every generation is done, the last one is the current one (not one past the end).
  const g = Math.max(0, Math.min(view.run.generation, view.run.config.generations - 1));
  return {
    generation: g,
    done: view.evaluations.filter((e) => e.generation === g).length,
    total: plannedInGeneration(view.run.config, g, view),
    running: Object.keys(view.working)
      .map(Number)
      .sort((a, b) => a - b),
    ...(view.generationStartedAt !== undefined ? { startedAt: view.generationStartedAt } : {}),
  };
}

export interface HypervolumePoint {
  readonly generation: number;
  readonly evaluations: number;
  readonly hypervolume: number;
}

export function hypervolumeHistory(view: RunView): HypervolumePoint[] {
  return view.run.generations.map((g) => ({
    generation: g.generation,
    evaluations: g.evaluations,
    hypervolume: g.hypervolume,
  }));
}

/** The Pareto front of every evaluation so far (moves between generations). */
export function currentFront(view: RunView): number[] {
  return paretoFront(view.evaluations, view.run.config.objectives);
}

/**
 * The front stored after `generation` (default: the latest) as records (each member's first
 * finished evaluation) and as members with their seeds, means and standard errors as they stood
 * then; undefined when that generation is not finished.
 */
export function generationFront(
  view: RunView,
  generation?: number,
): { summary: GenerationSummary; records: EvaluationRecord[]; members: FrontMember[] } | undefined {
  const gs = view.run.generations;
  const summary =
    generation === undefined ? gs[gs.length - 1] : gs.find((g) => g.generation === generation);
  if (!summary) return undefined;
  const byIndex = new Map(view.evaluations.map((e) => [e.index, e]));
  const records = summary.front.flatMap((i) => {
    const r = byIndex.get(i);
    return r ? [r] : [];
  });
  const members = frontMembers(
    view.evaluations,
    view.run.config.objectives,
    summary.front,
    summary.evaluations,
  );
  return { summary, records, members };
}

/** The run's noise estimate from its latest surviving population (see run-noise.ts). */
export function viewNoise(view: RunView): RunNoise {
  return runNoise(view.evaluations, view.run.config.objectives, view.run.generations);
}

/** The candidates of the run so far (one per genotype) with their seeds, means and errors. */
export function viewCandidates(view: RunView) {
  return candidateEstimates(view.evaluations, view.run.config.objectives);
}

/** True for a surrogate run, or one holding surrogate scores (they are not accuracies). */
export function isSurrogateView(view: RunView): boolean {
  return (
    view.run.config.evaluator === 'surrogate' || view.evaluations.some((e) => e.scores?.surrogate)
  );
}
