/**
 * A stored run as one plain object (RunData: its summary, config, evaluations and generations), for
 * the readers that want it whole: `robust-nas runs` and `export`, the CSV export, and tests. Reads
 * through the file backend of RunStorage (lock-aware status); never writes anything.
 */
import type { EvaluationRecord, GenerationSummary } from '../core/records.js';
import { runHeader, runSummary, type RunSummary } from '../core/run-view.js';
import type { SearchConfig } from '../core/search-config.js';
import { FileRunStorage } from './file-run-storage.js';
import type { StoredRun } from './run-storage.js';

export type { RunSummary };

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

/** A stored run as RunData. */
export function runData(stored: StoredRun): RunData {
  const { file, status, evaluations } = stored;
  const {
    evaluations: _count,
    generations: _planned,
    ...summary
  } = runSummary(runHeader(file, status), evaluations.length);
  return {
    ...summary,
    config: file.config,
    evaluations: [...evaluations],
    generations: [...file.generations],
    generationsPlanned: file.config.generations,
    ...(file.checkpoint.reference ? { reference: file.checkpoint.reference } : {}),
  };
}

/** The runs folder as a read-only catalogue: every run's summary, and one run whole. */
export class RunCatalogue {
  private readonly storage: FileRunStorage;

  constructor(readonly runsDir: string) {
    this.storage = new FileRunStorage(runsDir);
  }

  /** Folder of a run (after checking the id). */
  runDir(runId: string): string {
    return this.storage.runDir(runId);
  }

  /** Every run on disk, newest first; unreadable ones carry `error`. */
  list(): Promise<RunSummary[]> {
    return this.storage.list();
  }

  /** One run whole. InputError for an invalid id, RunNotFoundError for an unknown one. */
  async read(runId: string): Promise<RunData> {
    return runData(await this.storage.read(runId));
  }
}
