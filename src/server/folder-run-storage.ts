/**
 * A {@link RunStorage} over the runs folder as the store writes it today (RunStore, RunWriter, the
 * JSON-lines journal), so the server reads and watches storage now. Temporary: it goes when the
 * file backend (src/store/file-run-storage.ts) lands, which implements the same interface.
 *
 * watch() follows the folder with fs.watch, so writes from any process (this one's SearchRun,
 * or `robust-nas search` elsewhere) arrive the same way: the run file re-read when it was
 * replaced, the journal read from the last byte seen. Evaluations of finished generations are
 * reported before the run file that summarises them. A 'running' run whose process ends is
 * reported as interrupted (checked every `livenessMs` while such a run is watched).
 */
import { watch as watchFolder, type FSWatcher } from 'node:fs';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunFile, StoredEvaluation } from '../core/records.js';
import type { RunStatus } from '../core/run-status.js';
import type { RunSummary } from '../core/run-view.js';
import { RunNotFoundError } from '../store/errors.js';
import { parseJournal } from '../store/json-lines.js';
import { EVALUATIONS_FILE, evaluationRecordSchema } from '../store/run-format.js';
import { readRunDir, readRunFile } from '../store/run-reader.js';
import type { RunSession, RunStorage, StoredChange, StoredRun } from '../store/run-storage.js';
import { RunStore, effectiveStatus, processAlive } from '../store/run-store.js';
import { pruneWeights, weightsFile } from '../store/run-weights.js';
import { RunWriter } from '../store/run-writer.js';

export interface FolderRunStorageOptions {
  /** How often a watched run that another local process runs is checked for that process (ms). */
  readonly livenessMs?: number;
}

export class FolderRunStorage implements RunStorage {
  private readonly store: RunStore;
  private readonly stops = new Set<() => void>();
  private readonly livenessMs: number;

  constructor(
    readonly runsDir: string,
    options: FolderRunStorageOptions = {},
  ) {
    this.store = new RunStore(runsDir);
    this.livenessMs = options.livenessMs ?? 1000;
  }

  list(): Promise<RunSummary[]> {
    return this.store.list();
  }

  async read(runId: string): Promise<StoredRun> {
    const dir = this.store.runDir(runId);
    try {
      await stat(dir);
    } catch {
      throw new RunNotFoundError(runId);
    }
    const { file, evaluations } = await readRunDir(dir, runId);
    return { file, status: effectiveStatus(file), evaluations };
  }

  async readAfter(runId: string, from: number): Promise<StoredRun> {
    const stored = await this.read(runId);
    return { ...stored, evaluations: stored.evaluations.slice(from) };
  }

  async create(file: RunFile): Promise<RunSession> {
    return session(await RunWriter.create(this.runsDir, file), []);
  }

  async open(runId: string): Promise<RunSession> {
    const { writer, contents } = await RunWriter.open(this.runsDir, runId);
    return session(writer, contents.evaluations);
  }

  weightsPath(runId: string, index: number): string {
    return weightsFile(this.store.runDir(runId), index);
  }

  watch(runId: string, listener: (change: StoredChange) => void): () => void {
    const dir = this.store.runDir(runId);
    const follower = new Follower(dir, runId, listener, this.livenessMs);
    const stop = () => {
      follower.stop();
      this.stops.delete(stop);
    };
    this.stops.add(stop);
    return stop;
  }

  async close(): Promise<void> {
    for (const stop of [...this.stops]) stop();
  }
}

function session(writer: RunWriter, stored: StoredEvaluation[]): RunSession {
  const evaluations = [...stored];
  return {
    runId: writer.data.id,
    get file() {
      return writer.data;
    },
    evaluations,
    async append(record) {
      if (record.index !== evaluations.length) {
        throw new Error(
          `run ${writer.data.id}: evaluation ${record.index} appended where ${evaluations.length} is next`,
        );
      }
      await writer.appendEvaluation(record);
      evaluations.push(record);
    },
    update: (patch) => writer.update(patch),
    async putWeights(index, bytes) {
      const path = weightsFile(writer.dir, index);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, bytes);
    },
    pruneWeights: (keep) => pruneWeights(writer.dir, keep),
    close: () => writer.close(),
  };
}

/** Follows one run folder and reports what changed in it. */
class Follower {
  private watcher: FSWatcher | undefined;
  private liveness: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy = false;
  private again = false;
  private runDirty = true;
  private lastFile = '';
  private lastStatus: RunStatus | undefined;
  /** Journal bytes read so far (complete lines only) and records reported. */
  private offset = 0;
  private count = 0;

  constructor(
    private readonly dir: string,
    private readonly runId: string,
    private readonly listener: (change: StoredChange) => void,
    private readonly livenessMs: number,
  ) {
    try {
      this.watcher = watchFolder(dir, { persistent: false }, (_event, name) => {
        if (name !== EVALUATIONS_FILE) this.runDirty = true;
        this.check();
      });
      this.watcher.on('error', () => this.stop());
    } catch {
      this.watcher = undefined; // the folder is gone: nothing more will change
    }
    // The first check reports the run as it is (a watcher that built its view earlier drops what
    // it already holds), so nothing written between its read and this watch is lost.
    this.check();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.liveness);
  }

  private check(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.read()
      .catch(() => {
        // A half-written or vanished folder: the next event reads it again.
      })
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.check();
        }
      });
  }

  private async read(): Promise<void> {
    // The run file first: the journal read after it holds every evaluation it refers to.
    let file: RunFile | undefined;
    if (this.runDirty) {
      this.runDirty = false;
      file = await readRunFile(this.dir, this.runId);
    }
    const records = await this.readJournal();
    if (this.stopped) return;
    let changed: { file: RunFile; status: RunStatus } | undefined;
    if (file) {
      const text = JSON.stringify(file);
      const status = effectiveStatus(file);
      if (text !== this.lastFile || status !== this.lastStatus) {
        this.lastFile = text;
        this.lastStatus = status;
        changed = { file, status };
      }
      this.followProcess(file);
    }
    const finished = changed ? changed.file.checkpoint.generation : Infinity;
    const before = records.filter((r) => r.generation < finished);
    const after = records.filter((r) => r.generation >= finished);
    if (before.length > 0) this.listener({ type: 'evaluations', evaluations: before });
    if (changed) this.listener({ type: 'run', ...changed });
    if (after.length > 0) this.listener({ type: 'evaluations', evaluations: after });
  }

  /** The complete journal lines written since the last read. */
  private async readJournal(): Promise<StoredEvaluation[]> {
    let fh;
    try {
      fh = await open(join(this.dir, EVALUATIONS_FILE), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    try {
      const { size } = await fh.stat();
      if (size <= this.offset) return [];
      const buffer = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, this.offset);
      const text = buffer.subarray(0, bytesRead).toString('utf8');
      const end = text.lastIndexOf('\n');
      if (end < 0) return []; // a line still being written
      const complete = text.slice(0, end + 1);
      const values = parseJournal(complete).values;
      const out: StoredEvaluation[] = [];
      for (const v of values) {
        const r = evaluationRecordSchema.safeParse(v);
        if (!r.success || r.data.index !== this.count) {
          throw new Error(`run ${this.runId}: unexpected journal line after ${this.count} records`);
        }
        out.push(r.data as unknown as StoredEvaluation);
        this.count += 1;
      }
      this.offset += Buffer.byteLength(complete);
      return out;
    } finally {
      await fh.close();
    }
  }

  /** While another local process runs the run, notices when that process is gone. */
  private followProcess(file: RunFile): void {
    const foreign =
      file.status === 'running' &&
      file.pid !== undefined &&
      file.pid !== process.pid &&
      (file.host === undefined || file.host === hostname());
    if (!foreign) {
      clearInterval(this.liveness);
      this.liveness = undefined;
      return;
    }
    if (this.liveness) return;
    const pid = file.pid!;
    this.liveness = setInterval(() => {
      if (processAlive(pid)) return;
      clearInterval(this.liveness);
      this.liveness = undefined;
      this.runDirty = true;
      this.check();
    }, this.livenessMs);
    this.liveness.unref();
  }
}
