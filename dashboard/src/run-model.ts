/**
 * The dashboard's copy of one run, built from the server's snapshot and advanced by its event
 * batches. Pure functions of plain data, so the same code can be checked in tests: a client that
 * joins late or reconnects must reach the same state as one that watched from the start.
 */
import { nonDominatedSort } from '../../src/core/non-dominated-sort.js';
import type { EvaluationRecord, SearchEvent } from '../../src/core/events.js';
import type { EventBatch } from '../../src/server/live-hub.js';
import type { RunSnapshot } from '../../src/server/run-state.js';

/** The server's snapshot (evaluations sorted by index), plus what is being evaluated right now. */
export interface RunModel extends RunSnapshot {
  /** Evaluation in progress: index -> phase and progress (for display only). */
  readonly working: Readonly<Record<number, { phase: string; done: number; total: number }>>;
}

export function modelFromSnapshot(s: RunSnapshot): RunModel {
  return {
    ...s,
    evaluations: [...s.evaluations].sort((a, b) => a.index - b.index),
    front: [...s.front],
    hypervolume: [...s.hypervolume],
    working: {},
  };
}

/** True for a surrogate run, or one with surrogate scores (they are not accuracies). */
export function isSurrogateRun(m: RunModel | undefined): boolean {
  return (
    m !== undefined &&
    (m.run.evaluator === 'surrogate' || m.evaluations.some((e) => e.scores?.surrogate))
  );
}

/**
 * Applies a batch of events, or returns 'resync' when the batch does not continue this state
 * (another epoch, or a gap): the client should then ask for a fresh snapshot.
 */
export function applyBatch(model: RunModel, batch: EventBatch): RunModel | 'resync' {
  if (batch.runId !== model.runId || batch.epoch !== model.epoch) return 'resync';
  if (batch.toSeq <= model.seq) return model; // already applied (duplicate delivery)
  if (batch.fromSeq !== model.seq) return 'resync';
  let next = model;
  for (const item of batch.events) next = applyEvent(next, item.event, item.at);
  return { ...next, seq: batch.toSeq };
}

function insertRecord(list: readonly EvaluationRecord[], r: EvaluationRecord): EvaluationRecord[] {
  if (list.some((e) => e.index === r.index)) return [...list];
  const out = [...list];
  let at = out.length;
  while (at > 0 && (out[at - 1] as EvaluationRecord).index > r.index) at -= 1;
  out.splice(at, 0, r);
  return out;
}

export function applyEvent(model: RunModel, event: SearchEvent, at: number): RunModel {
  switch (event.type) {
    case 'run-status':
      return {
        ...model,
        run: {
          ...model.run,
          status: event.status,
          generation: event.generation,
          resumable: ['paused', 'stopped', 'interrupted'].includes(event.status),
          ...(event.status === 'failed' && event.message ? { error: event.message } : {}),
        },
      };
    case 'evaluation-started': {
      const p = model.progress;
      const same = p.generation === event.generation;
      return {
        ...model,
        run: { ...model.run, generation: Math.max(model.run.generation, event.generation) },
        progress: {
          generation: event.generation,
          done: same ? p.done : 0,
          total: event.inGeneration.total,
          running: [...(same ? p.running : []), event.index],
          startedAt: same && p.startedAt !== undefined ? p.startedAt : at,
        },
        working: { ...model.working, [event.index]: { phase: 'started', done: 0, total: 1 } },
      };
    }
    case 'evaluation-progress':
      return {
        ...model,
        working: {
          ...model.working,
          [event.index]: { phase: event.phase, done: event.done, total: event.total },
        },
      };
    case 'evaluation-finished':
    case 'evaluation-failed': {
      const r = event.evaluation;
      const evaluations = insertRecord(model.evaluations, r);
      const p = model.progress;
      const working = { ...model.working };
      delete working[r.index];
      return {
        ...model,
        evaluations,
        run: { ...model.run, evaluations: evaluations.length },
        progress:
          p.generation === r.generation
            ? { ...p, done: p.done + 1, running: p.running.filter((i) => i !== r.index) }
            : p,
        working,
      };
    }
    case 'generation-finished': {
      const point = {
        generation: event.generation,
        evaluations: event.evaluations,
        hypervolume: event.hypervolume,
      };
      const hypervolume = model.hypervolume.filter((h) => h.generation !== event.generation);
      hypervolume.push(point);
      hypervolume.sort((a, b) => a.generation - b.generation);
      return { ...model, front: [...event.front], hypervolume };
    }
  }
}

/** The objective directions of a run's config ('max' when unknown). */
export function objectiveDirections(config: unknown, count: number): ('max' | 'min')[] {
  const objectives = (config as { objectives?: { direction?: string }[] } | null)?.objectives ?? [];
  return Array.from({ length: count }, (_, i) =>
    objectives[i]?.direction === 'min' ? 'min' : 'max',
  );
}

/**
 * The current Pareto front: indices of the finished evaluations no other finished evaluation
 * dominates (on the run's objectives, with their directions), counting each genotype once (its
 * first evaluation), ascending. The same rule (and sort) as the search's own front, which it equals
 * at every generation boundary; computed here so the front also moves between generations.
 */
export function currentFront(model: RunModel): number[] {
  const seen = new Set<string>();
  const candidates: { index: number; f: readonly number[] }[] = [];
  for (const e of model.evaluations) {
    if (e.status !== 'finished' || !e.objectives || seen.has(e.hash)) continue;
    seen.add(e.hash);
    candidates.push({ index: e.index, f: e.objectives });
  }
  if (candidates.length === 0) return [];
  const fronts = nonDominatedSort(
    candidates.map((c) => c.f),
    objectiveDirections(model.config, candidates[0]!.f.length),
  );
  return fronts[0]!.map((k) => candidates[k]!.index);
}
