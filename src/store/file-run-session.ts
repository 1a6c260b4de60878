/** A writer's session on one run of the file backend (FileRunStorage.open/create): appends, run.json updates, weights, the lock. */
import { mkdir, open, readdir, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { RunFile, StoredEvaluation } from '../core/records.js';
import { fsyncFile, syncDir, writeFileAtomic } from './atomic-write.js';
import { EVALUATIONS_FILE, RUN_FILE, evaluationRecordSchema } from './run-format.js';
import { checkReferences, parseRunFile } from './run-reader.js';
import { RunLock } from './run-lock.js';
import { WEIGHTS_DIR, pruneWeights, weightsFile } from './run-weights.js';
import type { RunFilePatch, RunSession } from './run-storage.js';
import { formatIssues } from '../core/issues.js';
import { errno } from './errors.js';
import { runFileText } from './run-file-text.js';
import type { FileRunStorage } from './file-run-storage.js';

/** Temp files of run.json: steno's `.run.json.tmp` and the former writer's `.run.json.<pid>.<n>.tmp`. */
const RUN_FILE_TEMP = /^\.run\.json\.(?:.+\.)?tmp$/;

interface JournalState {
  validBytes: number;
  torn: boolean;
  missingNewline: boolean;
  repaired: boolean;
}

export class FileRunSession implements RunSession {
  readonly runId: string;
  private fh: FileHandle | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly storage: FileRunStorage,
    readonly dir: string,
    private readonly lock: RunLock,
    private readonly db: Low<RunFile>,
    readonly evaluations: StoredEvaluation[],
    private readonly journal: JournalState,
  ) {
    this.runId = db.data.id;
  }

  get file(): RunFile {
    return this.db.data;
  }

  /** Runs writes one after another (a caller need not await one before starting the next). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      if (this.closed) throw new Error(`run ${this.runId}: the session is closed`);
      return work();
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Before the first write: cut a torn last journal line (or end a whole one with its newline) and
   * remove temp files a kill or a full disk left (run.json's and weights').
   */
  private async repair(): Promise<void> {
    if (this.journal.repaired) return;
    const path = join(this.dir, EVALUATIONS_FILE);
    let size = -1;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
    if (size > this.journal.validBytes) {
      await truncate(path, this.journal.validBytes);
      await fsyncFile(path);
    }
    if (this.journal.missingNewline) {
      const fh = await this.journalHandle();
      await fh.appendFile('\n');
      await fh.datasync();
      this.journal.validBytes += 1;
      this.journal.missingNewline = false;
    }
    const names = await readdir(this.dir);
    await Promise.all(
      names.filter((n) => RUN_FILE_TEMP.test(n)).map((n) => rm(join(this.dir, n), { force: true })),
    );
    await pruneTemp(join(this.dir, WEIGHTS_DIR));
    this.journal.repaired = true;
  }

  private async journalHandle(): Promise<FileHandle> {
    this.fh ??= await open(join(this.dir, EVALUATIONS_FILE), 'a');
    return this.fh;
  }

  append(record: StoredEvaluation): Promise<void> {
    return this.serial(async () => {
      const next = this.evaluations.length;
      if (record.index !== next) {
        throw new Error(
          `run ${this.runId}: evaluation ${record.index} cannot be stored, the next index is ${next}`,
        );
      }
      const checked = evaluationRecordSchema.safeParse(record);
      if (!checked.success) {
        throw new Error(
          `run ${this.runId}: evaluation ${record.index} cannot be stored (${formatIssues(checked.error, { max: 1 })})`,
        );
      }
      await this.lock.check();
      await this.repair();
      const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      const fh = await this.journalHandle();
      const start = this.journal.validBytes;
      try {
        await fh.appendFile(line);
        await fh.datasync();
      } catch (err) {
        // A full disk may have written part of the line: cut it so the journal stays readable.
        await fh.truncate(start).catch(() => {
          this.journal.repaired = false;
        });
        throw err;
      }
      this.journal.validBytes = start + line.length;
      this.evaluations.push(record);
      this.storage.noteAppend(this.runId, this.dir, record, start, this.journal.validBytes);
    });
  }

  update(patch: RunFilePatch): Promise<void> {
    return this.serial(async () => {
      const next = { ...this.db.data, ...patch, updatedAt: new Date().toISOString() };
      const text = runFileText(next as RunFile);
      let file: RunFile;
      try {
        file = parseRunFile(this.runId, text);
        checkReferences(this.runId, file, this.evaluations.length);
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new Error(`run ${this.runId}: the run file update is invalid (${detail})`);
      }
      await this.lock.check();
      await this.repair();
      const previous = this.db.data;
      this.db.data = JSON.parse(text) as RunFile;
      try {
        await this.db.write();
        await fsyncFile(join(this.dir, RUN_FILE));
        await syncDir(this.dir);
      } catch (err) {
        this.db.data = previous;
        throw err;
      }
      this.storage.notifyRun(this.runId, this.db.data, text, file.status);
    });
  }

  putWeights(index: number, bytes: Uint8Array): Promise<void> {
    return this.serial(async () => {
      await this.lock.check();
      await this.repair();
      await mkdir(join(this.dir, WEIGHTS_DIR), { recursive: true });
      await writeFileAtomic(weightsFile(this.dir, index), bytes);
    });
  }

  pruneWeights(keep: readonly number[]): Promise<void> {
    return this.serial(async () => {
      await this.lock.check();
      await this.repair();
      await pruneWeights(this.dir, keep);
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.queue;
      this.closed = true;
      try {
        await this.fh?.close();
      } finally {
        this.fh = undefined;
        await this.lock.release();
      }
      const file = this.db.data;
      this.storage.released(this.runId);
      if (file.status === 'running') {
        // Nobody holds the run any more: it now reads as interrupted.
        this.storage.notifyRun(this.runId, file, runFileText(file), 'interrupted');
      }
    })();
    return this.closing;
  }
}

/** Removes temp files (`*.tmp`) from a folder, if it exists. */
async function pruneTemp(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw err;
  }
  await Promise.all(
    names.filter((n) => n.endsWith('.tmp')).map((n) => rm(join(dir, n), { force: true })),
  );
}
