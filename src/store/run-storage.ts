/**
 * The one storage interface for runs, as Optuna keeps one storage API behind its backends. The
 * runner writes through a RunSession; the server, the CLI and exports read and watch. The file
 * backend (file-run-storage.ts: run.json through lowdb, an append-only JSON-lines journal, a real
 * lock) is the first implementation; the interface leaves room for a database.
 */
import type { RunFile, StoredEvaluation } from '../core/records.js';
import type { RunStatus } from '../core/run-status.js';
import type { RunSummary } from '../core/run-view.js';

/** A run as stored, with the status storage reports (a 'running' run nobody holds is 'interrupted'). */
export interface StoredRun {
  readonly file: RunFile;
  readonly status: RunStatus;
  /** Evaluations stored, ascending by index (from `from` on, for readAfter). */
  readonly evaluations: readonly StoredEvaluation[];
}

/** What changed in a stored run, as watch() reports it. */
export type StoredChange =
  | { readonly type: 'run'; readonly file: RunFile; readonly status: RunStatus }
  | { readonly type: 'evaluations'; readonly evaluations: readonly StoredEvaluation[] };

export type RunFilePatch = Partial<Omit<RunFile, 'format' | 'formatVersion' | 'id' | 'createdAt'>>;

/** A run held for writing: the lock is held until close(). */
export interface RunSession {
  readonly runId: string;
  /** The run file as last written. */
  readonly file: RunFile;
  /** Every evaluation stored, ascending by index. */
  readonly evaluations: readonly StoredEvaluation[];
  /** Appends one evaluation (its index must be the next one); durable when this resolves. */
  append(record: StoredEvaluation): Promise<void>;
  /** Replaces fields of the run file (status, checkpoint, generations, message) atomically. */
  update(patch: RunFilePatch): Promise<void>;
  /** Keeps the trained weights of evaluation `index`. */
  putWeights(index: number, bytes: Uint8Array): Promise<void>;
  /** Deletes the kept weights of every evaluation not in `keep`. */
  pruneWeights(keep: readonly number[]): Promise<void>;
  /** Releases the lock (idempotent). */
  close(): Promise<void>;
}

export interface RunStorage {
  /** Every run, newest first; unreadable ones are listed with `error` and never opened. */
  list(): Promise<RunSummary[]>;
  /**
   * The run as stored. InputError for an id that could name a path outside the runs, RunNotFoundError,
   * RunCorruptError, RunFormatVersionError. Never writes.
   */
  read(runId: string): Promise<StoredRun>;
  /** The run file and the evaluations with index >= `from` (what a watcher has not seen yet). */
  readAfter(runId: string, from: number): Promise<StoredRun>;
  /**
   * Creates a run and holds it for writing. InputError when the id exists in any form (a folder
   * that holds anything, named with what it holds); RunLockedError when another process is creating
   * it at the same instant.
   */
  create(file: RunFile): Promise<RunSession>;
  /**
   * Opens a run for writing, taking its lock: RunLockedError (naming the holder's pid and host)
   * when another process (or session) holds it. Opening changes nothing else: leftovers of a crash
   * (temporary files, a torn last journal line) are cleaned at the session's first write, so a
   * session that is closed without writing leaves the run exactly as it was.
   */
  open(runId: string): Promise<RunSession>;
  /**
   * Calls `listener` after each change to the run, whoever wrote it: at once for writes through
   * this storage object, as soon as the file system reports them for other processes (and a
   * 'running' run whose process died as status 'interrupted'). Each evaluation is reported once, in
   * index order. With `from` (the number of evaluations the caller already read), the listener
   * first gets the run file as it stands and the evaluations stored from index `from` on, so a
   * read() followed by watch(…, from) misses nothing; without it, only changes after the watch
   * starts are reported. Returns the function that stops watching.
   */
  watch(runId: string, listener: (change: StoredChange) => void, from?: number): () => void;
  /** Where the kept weights of evaluation `index` are, for `evaluate --load-weights`. */
  weightsPath(runId: string, index: number): string;
  /**
   * The folder of the run's validation (`robust-nas validate`: settings, journal, report.*), for
   * backends that keep runs in folders; undefined where there is none.
   */
  validationDir?(runId: string): string | undefined;
  /** Stops every watcher. */
  close(): Promise<void>;
}
