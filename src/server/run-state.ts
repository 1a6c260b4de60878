/**
 * The server's in-memory view of one run: every evaluation so far, the generation summaries (fronts,
 * hypervolume), the status and the progress of the current generation, kept up to date by applying
 * the run's SearchEvents in order. Each applied event gets the next sequence number of the run, so a
 * snapshot taken at sequence S plus every event numbered above S is exactly the state now.
 */
import { randomUUID } from 'node:crypto';
import type {
  EvaluationRecord,
  GenerationSummary,
  RunStatus,
  SearchEvent,
} from '../core/events.js';
import type { SearchConfig } from '../core/search-config.js';
import type { RunData, RunSummary } from '../store/run-store.js';

/** A stored run as the store reads it. */
export type StoredRun = RunData;

/**
 * Short description of a run for lists: the store's summary (with the in-memory status and counts
 * of a live run), plus whether it can be resumed and whether this server process is running it.
 * `error` also carries the reason a run failed.
 */
export type RunOverview = RunSummary & {
  /** True when the run can be resumed (paused, stopped or interrupted). */
  readonly resumable: boolean;
  /** True while this server process is running the search. */
  readonly live: boolean;
};

export interface HypervolumePoint {
  readonly generation: number;
  readonly evaluations: number;
  readonly hypervolume: number;
}

/** Progress of the current generation. */
export interface GenerationProgress {
  readonly generation: number;
  /** Evaluations of this generation finished or failed. */
  readonly done: number;
  /** Evaluations this generation will run. */
  readonly total: number;
  /** Indices of evaluations started but not finished. */
  readonly running: readonly number[];
  /** Wall-clock ms of the first evaluation of this generation starting (for an ETA). */
  readonly startedAt?: number;
}

/** Everything a client needs to draw a run, at sequence number `seq`. */
export interface RunSnapshot {
  readonly runId: string;
  /** Identifies this in-memory state: sequence numbers are comparable only within one epoch. */
  readonly epoch: string;
  readonly seq: number;
  readonly run: RunOverview;
  readonly config: SearchConfig;
  readonly evaluations: readonly EvaluationRecord[];
  /** Evaluation indices of the current Pareto front (the last generation's). */
  readonly front: readonly number[];
  readonly hypervolume: readonly HypervolumePoint[];
  readonly progress: GenerationProgress;
}

export const RESUMABLE_STATUSES: readonly RunStatus[] = ['paused', 'stopped', 'interrupted'];

export type SequencedListener = (seq: number, event: SearchEvent) => void;

export class RunState {
  private seqNo = 0;
  /** Sequence numbers restart with every new RunState (e.g. a server restart); the epoch tells them apart. */
  readonly epoch = randomUUID();
  private readonly evaluationList: EvaluationRecord[] = [];
  private readonly seen = new Set<number>();
  private readonly generationList: GenerationSummary[] = [];
  private statusValue: RunStatus;
  private generationValue: number;
  private updatedAt: string;
  private error: string | undefined;
  private progressValue: GenerationProgress;
  private readonly listeners = new Set<SequencedListener>();
  /** Set by the run manager while this process runs the search. */
  live = false;

  constructor(private readonly stored: StoredRun) {
    this.statusValue = stored.status;
    this.generationValue = stored.generation;
    this.updatedAt = stored.updatedAt;
    this.error = stored.error ?? (stored.status === 'failed' ? stored.message : undefined);
    for (const e of [...stored.evaluations].sort((a, b) => a.index - b.index)) this.addRecord(e);
    for (const g of stored.generations) this.generationList.push(g);
    this.progressValue = {
      generation: stored.generation,
      done: this.evaluationList.filter((e) => e.generation === stored.generation).length,
      total: this.plannedInGeneration(stored.generation),
      running: [],
    };
  }

  get id(): string {
    return this.stored.id;
  }

  get seq(): number {
    return this.seqNo;
  }

  get status(): RunStatus {
    return this.statusValue;
  }

  get config(): SearchConfig {
    return this.stored.config;
  }

  /** The run as the store describes it, with the status, evaluations and generations as they are now. */
  data(): RunData {
    const {
      resumable: _resumable,
      live: _live,
      error,
      generations: _planned,
      ...summary
    } = this.overview();
    return {
      ...summary,
      ...(this.stored.message !== undefined ? { message: this.stored.message } : {}),
      ...(error !== undefined && this.statusValue === 'failed' ? { message: error } : {}),
      config: this.stored.config,
      evaluations: [...this.evaluationList],
      generations: [...this.generationList],
      generationsPlanned: this.stored.generationsPlanned,
      ...(this.stored.reference ? { reference: this.stored.reference } : {}),
    };
  }

  evaluations(): readonly EvaluationRecord[] {
    return this.evaluationList;
  }

  generations(): readonly GenerationSummary[] {
    return this.generationList;
  }

  /** The front after `generation` (default: the latest), as evaluation records, or undefined. */
  front(generation?: number): { generation: number; records: EvaluationRecord[] } | undefined {
    const summary =
      generation === undefined
        ? this.generationList[this.generationList.length - 1]
        : this.generationList.find((g) => g.generation === generation);
    if (!summary) return undefined;
    const byIndex = new Map(this.evaluationList.map((e) => [e.index, e]));
    const records = summary.front
      .map((i) => byIndex.get(i))
      .filter((e): e is EvaluationRecord => e !== undefined);
    return { generation: summary.generation, records };
  }

  overview(): RunOverview {
    const s = this.stored;
    return {
      id: s.id,
      ...(s.name !== undefined ? { name: s.name } : {}),
      status: this.statusValue,
      createdAt: s.createdAt,
      updatedAt: this.updatedAt,
      generation: this.generationValue,
      generations: s.generationsPlanned,
      evaluations: this.evaluationList.length,
      plannedEvaluations: s.plannedEvaluations,
      objectives: s.config.objectives,
      strategy: s.strategy,
      evaluator: s.evaluator,
      ...(this.error !== undefined ? { error: this.error } : {}),
      resumable: this.resumable(),
      live: this.live,
    };
  }

  /** Paused, stopped or interrupted, or created and never started by anyone. */
  resumable(): boolean {
    return (
      RESUMABLE_STATUSES.includes(this.statusValue) ||
      (this.statusValue === 'created' && !this.live)
    );
  }

  snapshot(): RunSnapshot {
    const last = this.generationList[this.generationList.length - 1];
    return {
      runId: this.stored.id,
      epoch: this.epoch,
      seq: this.seqNo,
      run: this.overview(),
      config: this.stored.config,
      evaluations: [...this.evaluationList],
      front: last ? [...last.front] : [],
      hypervolume: this.generationList.map((g) => ({
        generation: g.generation,
        evaluations: g.evaluations,
        hypervolume: g.hypervolume,
      })),
      progress: this.progressValue,
    };
  }

  /**
   * Catches up with the run as stored on disk when another process (e.g. `robust-nas search`) is
   * running it: every new evaluation, generation summary and status change is applied as the
   * event the run would have sent, so subscribers see it live.
   */
  syncFrom(stored: StoredRun): void {
    for (const e of [...stored.evaluations].sort((a, b) => a.index - b.index)) {
      if (this.seen.has(e.index)) continue;
      this.apply({
        type: e.status === 'finished' ? 'evaluation-finished' : 'evaluation-failed',
        runId: this.id,
        evaluation: e,
      });
    }
    for (const g of stored.generations) {
      const known = this.generationList.find((x) => x.generation === g.generation);
      if (known && known.evaluations === g.evaluations && known.hypervolume === g.hypervolume) {
        continue;
      }
      this.apply({ type: 'generation-finished', runId: this.id, ...g });
    }
    if (stored.status !== this.statusValue) {
      this.apply({
        type: 'run-status',
        runId: this.id,
        status: stored.status,
        generation: stored.generation,
        ...(stored.message !== undefined ? { message: stored.message } : {}),
      });
    }
  }

  /** Listens to every event applied from now on, with its sequence number. */
  onEvent(listener: SequencedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sets the status without an event from the run (e.g. a run that failed to start). */
  setStatus(status: RunStatus, message?: string): void {
    this.apply({
      type: 'run-status',
      runId: this.id,
      status,
      generation: this.generationValue,
      ...(message !== undefined ? { message } : {}),
    });
  }

  /** Applies one event from the run and passes it on to the listeners with its sequence number. */
  apply(event: SearchEvent): void {
    this.updatedAt = new Date().toISOString();
    switch (event.type) {
      case 'run-status':
        this.statusValue = event.status;
        this.generationValue = event.generation;
        if (event.status === 'failed' && event.message) this.error = event.message;
        break;
      case 'evaluation-started': {
        const p = this.progressValue;
        const sameGeneration = p.generation === event.generation;
        this.generationValue = Math.max(this.generationValue, event.generation);
        this.progressValue = {
          generation: event.generation,
          done: sameGeneration ? p.done : 0,
          total: event.inGeneration.total,
          running: [...(sameGeneration ? p.running : []), event.index],
          startedAt: sameGeneration && p.startedAt !== undefined ? p.startedAt : Date.now(),
        };
        break;
      }
      case 'evaluation-progress':
        break;
      case 'evaluation-finished':
      case 'evaluation-failed': {
        this.addRecord(event.evaluation);
        const p = this.progressValue;
        if (p.generation === event.evaluation.generation) {
          this.progressValue = {
            ...p,
            done: p.done + 1,
            running: p.running.filter((i) => i !== event.evaluation.index),
          };
        }
        break;
      }
      case 'generation-finished': {
        const { type: _type, runId: _runId, ...summary } = event;
        const at = this.generationList.findIndex((g) => g.generation === summary.generation);
        if (at >= 0) this.generationList[at] = summary;
        else this.generationList.push(summary);
        break;
      }
    }
    this.seqNo += 1;
    for (const listener of this.listeners) listener(this.seqNo, event);
  }

  private addRecord(record: EvaluationRecord): void {
    if (this.seen.has(record.index)) return;
    this.seen.add(record.index);
    const list = this.evaluationList;
    if (list.length === 0 || (list[list.length - 1] as EvaluationRecord).index < record.index) {
      list.push(record);
    } else {
      const at = list.findIndex((e) => e.index > record.index);
      list.splice(at, 0, record);
    }
  }

  private plannedInGeneration(generation: number): number {
    const c = this.stored.config;
    return generation === 0 ? c.population : (c.offspring ?? c.population);
  }
}
