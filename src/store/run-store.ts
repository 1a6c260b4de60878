/**
 * The runs folder as a read-only catalogue: every run on disk with its status (a 'running' run whose
 * process is gone is reported 'interrupted'), and one run in full. Never writes anything.
 */
import { hostname } from 'node:os';
import type { ObjectiveSpec } from '../core/objectives.js';
import type { EvaluationRecord, GenerationSummary, RunStatus } from '../core/events.js';
import { plannedEvaluations, type SearchConfig } from '../core/search-config.js';
import { FileRunStorage, unreadableSummary } from './file-run-storage.js';
import { processAlive } from './run-lock.js';
import type { RunFile } from './run-format.js';

export { processAlive };

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
  readonly objectives: ObjectiveSpec[];
  readonly strategy: SearchConfig['strategy'];
  readonly evaluator: SearchConfig['evaluator'];
  readonly message?: string;
  /** Set when the run cannot be read (corrupt, newer format): the run is listed but left untouched. */
  readonly error?: string;
}

export interface RunData extends Omit<RunSummary, 'evaluations' | 'generations'> {
  readonly config: SearchConfig;
  /** Evaluations stored (their number is `evaluations.length`). */
  readonly evaluations: EvaluationRecord[];
  /** The summary of every finished generation (their number is `generation`). */
  readonly generations: GenerationSummary[];
  readonly generationsPlanned: number;
  /** Hypervolume reference point of the run (set once generation 0 is done). */
  readonly reference?: readonly number[];
}

/**
 * The status a run file alone suggests ('running' becomes 'interrupted' when the pid it records is
 * gone). Storage reports the status from the lock instead (FileRunStorage.statusOf); this stays for
 * the search loop, which calls it on a run it has just locked.
 */
export function effectiveStatus(file: RunFile): RunStatus {
  if (file.status !== 'running') return file.status;
  if (file.host !== undefined && file.host !== hostname()) return 'running';
  return file.pid !== undefined && processAlive(file.pid) ? 'running' : 'interrupted';
}

export function summarise(file: RunFile, evaluations: number): RunSummary {
  return {
    id: file.id,
    ...(file.config.name !== undefined ? { name: file.config.name } : {}),
    status: effectiveStatus(file),
    createdAt: file.createdAt,
    updatedAt: file.updatedAt,
    generation: file.checkpoint.generation,
    generations: file.config.generations,
    evaluations,
    plannedEvaluations: plannedEvaluations(file.config),
    objectives: file.config.objectives,
    strategy: file.config.strategy,
    evaluator: file.config.evaluator,
    ...(file.message !== undefined ? { message: file.message } : {}),
  };
}

/** The former read API, kept for its callers: reads through FileRunStorage (lock-aware status). */
export class RunStore {
  private readonly storage: FileRunStorage;

  constructor(readonly runsDir: string) {
    this.storage = new FileRunStorage(runsDir);
  }

  /** Folder of a run (after checking the id). */
  runDir(runId: string): string {
    return this.storage.runDir(runId);
  }

  /** Every run on disk, newest first; unreadable ones carry `error`. */
  async list(): Promise<RunSummary[]> {
    const entries = await this.storage.readAll();
    const out: RunSummary[] = entries.map((e) =>
      'run' in e
        ? { ...summarise(e.run.file, e.run.evaluations.length), status: e.run.status }
        : { ...unreadableSummary(e), objectives: [] },
    );
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** One run in full. InputError for an invalid id, RunNotFoundError for an unknown one. */
  async read(runId: string): Promise<RunData> {
    const { file, status, evaluations } = await this.storage.read(runId);
    const summary = { ...summarise(file, evaluations.length), status };
    return {
      ...summary,
      config: file.config,
      evaluations: [...evaluations],
      generations: [...file.generations],
      generationsPlanned: file.config.generations,
      ...(file.checkpoint.reference ? { reference: file.checkpoint.reference } : {}),
    };
  }
}
