/**
 * What the dashboard plots of a run: its own objectives (the first two as the scatter's axes), each
 * with a label, its direction and how its values are written. Core's candidates give the points:
 * one per genotype, at its means over its seeds, with their standard errors.
 */
import { isSurrogateView, viewCandidates, type RunView } from '../../src/core/run-view.js';
import type { EvaluationRecord } from '../../src/core/records.js';
import type { CandidateEstimate } from '../../src/core/candidates.js';
import { objectiveLabel, type ObjectiveSpec } from '../../src/core/objectives.js';
import { attackLabel, compact, score } from './format.js';

/** Metrics whose values are fractions in [0, 1]. */
const FRACTIONS = new Set(['clean', 'adversarial', 'hrs', 'curve-mean']);

export interface ObjectiveAxis {
  readonly spec: ObjectiveSpec;
  /** The objective's short label (core's objectiveLabel, e.g. "pgd@0.1"): a column key. */
  readonly key: string;
  /** What an axis or a column header says, e.g. "PGD ε=0.1 accuracy (max)". */
  readonly title: string;
  readonly fraction: boolean;
  /** Writes one value of it. */
  readonly format: (v: number | undefined) => string;
}

/** Axis descriptions of the run's objectives, in its order. */
export function objectiveAxes(view: RunView, surrogate: boolean): ObjectiveAxis[] {
  const what = surrogate ? 'surrogate score' : 'accuracy';
  return view.run.config.objectives.map((o) => {
    const fraction = FRACTIONS.has(o.metric);
    const name =
      o.metric === 'clean'
        ? `clean ${what}`
        : o.metric === 'adversarial'
          ? `${attackLabel(o.attack, o.eps)} ${what}`
          : o.metric === 'curve-mean'
            ? `robustness-curve mean ${what}`
            : o.metric === 'hrs'
              ? 'HRS'
              : o.metric === 'params'
                ? 'parameters'
                : o.metric === 'macs'
                  ? 'multiply-adds'
                  : 'seconds';
    return {
      spec: o,
      key: objectiveLabel(o),
      title: `${name}${surrogate && fraction ? ' (surrogate)' : ''} (${o.direction})`,
      fraction,
      format: (v) => (fraction ? score(v, surrogate) : compact(v)),
    };
  });
}

/** A candidate as plotted: its place (evaluation index), generation and estimate. */
export interface PlottedCandidate {
  readonly index: number;
  /** Generation of its first evaluation. */
  readonly generation: number;
  readonly estimate: CandidateEstimate;
}

/** The run's candidates with at least one finished seed, by place. */
export function plottedCandidates(view: RunView): PlottedCandidate[] {
  const generationOf = new Map(view.evaluations.map((e) => [e.index, e.generation]));
  return [...viewCandidates(view).values()]
    .filter((e) => e.seeds > 0)
    .map((e) => ({ index: e.index, generation: generationOf.get(e.index) ?? 0, estimate: e }))
    .sort((a, b) => a.index - b.index);
}

/** "0.812 ± 0.004" (mean ± one standard error) as the front table and tooltips write it. */
export function withError(axis: ObjectiveAxis, mean: number, stderr: number): string {
  return `${axis.format(mean)} ± ${axis.format(stderr)}`;
}

/**
 * A candidate's means over its seeds, e.g. "3 seeds: clean 0.812 ± 0.004, pgd@0.1 0.301 ± 0.011";
 * undefined when it has no finished seed or the view does not hold it.
 */
export function evidenceOf(
  view: RunView | undefined,
  record: EvaluationRecord | undefined,
): string | undefined {
  if (!view || !record) return undefined;
  const e = viewCandidates(view).get(record.hash);
  if (!e || e.seeds === 0) return undefined;
  const axes = objectiveAxes(view, isSurrogateView(view));
  const figures = axes.map((a, k) => `${a.key} ${withError(a, e.mean[k]!, e.stderr[k]!)}`);
  return `${e.seeds} seed${e.seeds === 1 ? '' : 's'}: ${figures.join(', ')}`;
}
