/**
 * The former writer API, kept for the code that still uses it (the search loop until it writes
 * through RunStorage): a thin wrapper over a FileRunStorage session, so it holds the same real lock
 * and follows the same rules (a refused open writes nothing; leftovers are cleaned at the first
 * write; creating refuses a folder that holds anything).
 */
import { hostname } from 'node:os';
import type { EvaluationRecord } from '../core/events.js';
import { FileRunStorage } from './file-run-storage.js';
import type { JournalContents } from './json-lines.js';
import type { RunFile, StoredEvaluation } from './run-format.js';
import type { RunDirContents } from './run-reader.js';
import type { RunFilePatch, RunSession } from './run-storage.js';

export class RunWriter {
  private constructor(
    readonly dir: string,
    private readonly session: RunSession,
  ) {}

  /** Creates a new run folder; InputError when that run id already exists (in any form). */
  static async create(runsDir: string, file: RunFile): Promise<RunWriter> {
    const storage = new FileRunStorage(runsDir);
    const session = await storage.create(file);
    return new RunWriter(storage.runDir(file.id), session);
  }

  /**
   * Opens an existing run for writing (to resume it). Throws RunNotFoundError, RunCorruptError,
   * RunFormatVersionError (nothing is modified) or RunLockedError when a live process holds it.
   */
  static async open(
    runsDir: string,
    runId: string,
  ): Promise<{ writer: RunWriter; contents: RunDirContents }> {
    const storage = new FileRunStorage(runsDir);
    const session = await storage.open(runId);
    const journal: JournalContents = {
      values: [...session.evaluations],
      starts: [],
      validBytes: 0,
      torn: false,
      missingNewline: false,
    };
    return {
      writer: new RunWriter(storage.runDir(runId), session),
      contents: { file: session.file, evaluations: [...session.evaluations], journal },
    };
  }

  get data(): RunFile {
    return this.session.file;
  }

  /** Appends one evaluation to the journal (durable when this resolves). */
  async appendEvaluation(record: EvaluationRecord | StoredEvaluation): Promise<void> {
    await this.session.append(record);
  }

  /** Replaces fields of run.json (status, checkpoint, generations...) atomically. */
  async update(patch: RunFilePatch): Promise<void> {
    await this.session.update(patch);
  }

  /** The pid and host recorded in run.json while running (informative: the lock is run.lock). */
  lockFields(): { pid: number; host: string } {
    return { pid: process.pid, host: hostname() };
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
