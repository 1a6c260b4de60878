/**
 * Writes one run directory: run.json through lowdb with a crash-safe adapter (temp file, fsync,
 * rename), and the evaluations journal (append + fsync per evaluation). Opening an existing run
 * validates it first and refuses corrupt, newer-format or live runs, so they are never overwritten.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { InputError } from '../core/errors.js';
import type { EvaluationRecord } from '../core/events.js';
import { writeFileAtomic } from './atomic-write.js';
import { RunLockedError, checkRunId } from './errors.js';
import { JournalWriter } from './json-lines.js';
import { EVALUATIONS_FILE, RUN_FILE, type RunFile, type StoredEvaluation } from './run-format.js';
import { readRunDir, type RunDirContents } from './run-reader.js';
import { processAlive } from './run-store.js';

/** lowdb adapter that replaces the file atomically and durably. */
export class AtomicJsonFile<T> implements Adapter<T> {
  constructor(readonly path: string) {}

  async read(): Promise<T | null> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async write(data: T): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(data)}\n`);
  }
}

/** Run folders open for writing in this process. */
const openDirs = new Set<string>();

export class RunWriter {
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly db: Low<RunFile>,
    private readonly journal: JournalWriter,
  ) {
    openDirs.add(resolve(dir));
  }

  /** Creates a new run folder; InputError when that run id already exists. */
  static async create(runsDir: string, file: RunFile): Promise<RunWriter> {
    const dir = join(runsDir, checkRunId(file.id));
    await mkdir(runsDir, { recursive: true });
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        const hasRun = await stat(join(dir, RUN_FILE)).then(
          () => true,
          () => false,
        );
        if (hasRun) throw new InputError(`run ${file.id} already exists in ${runsDir}`);
      } else throw err;
    }
    const db = new Low<RunFile>(new AtomicJsonFile(join(dir, RUN_FILE)), file);
    await db.write();
    const journal = await JournalWriter.open(join(dir, EVALUATIONS_FILE), {
      values: [],
      validBytes: 0,
      torn: false,
    });
    return new RunWriter(dir, db, journal);
  }

  /**
   * Opens an existing run for writing (to resume it). Throws RunNotFoundError, RunCorruptError,
   * RunFormatVersionError (nothing is modified) or RunLockedError when a live process runs it.
   */
  static async open(
    runsDir: string,
    runId: string,
  ): Promise<{ writer: RunWriter; contents: RunDirContents }> {
    const dir = join(runsDir, checkRunId(runId));
    const contents = await readRunDir(dir, runId);
    const { file } = contents;
    if (openDirs.has(resolve(dir))) throw new RunLockedError(runId, process.pid);
    if (
      file.status === 'running' &&
      file.pid !== undefined &&
      file.pid !== process.pid &&
      (file.host === undefined || file.host === hostname()) &&
      processAlive(file.pid)
    ) {
      throw new RunLockedError(runId, file.pid);
    }
    const db = new Low<RunFile>(new AtomicJsonFile(join(dir, RUN_FILE)), file);
    const journal = await JournalWriter.open(join(dir, EVALUATIONS_FILE), contents.journal);
    return { writer: new RunWriter(dir, db, journal), contents };
  }

  get data(): RunFile {
    return this.db.data;
  }

  /** Appends one evaluation to the journal (durable when this resolves). */
  async appendEvaluation(record: EvaluationRecord | StoredEvaluation): Promise<void> {
    this.assertOpen();
    await this.journal.append(record);
  }

  /** Replaces fields of run.json (status, checkpoint, generations...) atomically. */
  async update(patch: Partial<Omit<RunFile, 'format' | 'formatVersion' | 'id'>>): Promise<void> {
    this.assertOpen();
    this.db.data = { ...this.db.data, ...patch, updatedAt: new Date().toISOString() };
    await this.db.write();
  }

  /** Marks this process as the one running the run (the lock checked by open()). */
  lockFields(): { pid: number; host: string } {
    return { pid: process.pid, host: hostname() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    openDirs.delete(resolve(this.dir));
    await this.journal.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`run folder ${this.dir} is closed`);
  }
}
