/**
 * A RunStorage held in memory, for tests of what reads and watches storage (the server's
 * projection). Watchers hear every write at once, as the interface promises for writes through
 * the same storage object. Records and run files are kept as given (plain data).
 */
import type { RunFile, StoredEvaluation } from '../../src/core/records.js';
import { runHeader, runSummary, type RunSummary } from '../../src/core/run-view.js';
import { InputError } from '../../src/core/errors.js';
import { RunLockedError, RunNotFoundError, checkRunId } from '../../src/store/errors.js';
import type {
  RunFilePatch,
  RunSession,
  RunStorage,
  StoredChange,
  StoredRun,
} from '../../src/store/run-storage.js';

interface Entry {
  file: RunFile;
  readonly evaluations: StoredEvaluation[];
  readonly weights: Map<number, Uint8Array>;
  locked: boolean;
  readonly watchers: Set<(change: StoredChange) => void>;
}

export class MemoryRunStorage implements RunStorage {
  private readonly runs = new Map<string, Entry>();

  async list(): Promise<RunSummary[]> {
    return [...this.runs.values()]
      .map((e) => runSummary(runHeader(e.file, this.status(e)), e.evaluations.length))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  async read(runId: string): Promise<StoredRun> {
    const e = this.entry(runId);
    return { file: e.file, status: this.status(e), evaluations: [...e.evaluations] };
  }

  async readAfter(runId: string, from: number): Promise<StoredRun> {
    const e = this.entry(runId);
    return { file: e.file, status: this.status(e), evaluations: e.evaluations.slice(from) };
  }

  async create(file: RunFile): Promise<RunSession> {
    checkRunId(file.id);
    if (this.runs.has(file.id)) throw new InputError(`run ${file.id} already exists`);
    const entry: Entry = {
      file,
      evaluations: [],
      weights: new Map(),
      locked: false,
      watchers: new Set(),
    };
    this.runs.set(file.id, entry);
    return this.session(entry);
  }

  async open(runId: string): Promise<RunSession> {
    return this.session(this.entry(runId));
  }

  watch(runId: string, listener: (change: StoredChange) => void): () => void {
    const e = this.entry(runId);
    e.watchers.add(listener);
    return () => e.watchers.delete(listener);
  }

  weightsPath(runId: string, index: number): string {
    return `memory:${checkRunId(runId)}/${index}.weights`;
  }

  async close(): Promise<void> {
    for (const e of this.runs.values()) e.watchers.clear();
  }

  private entry(runId: string): Entry {
    const e = this.runs.get(checkRunId(runId));
    if (!e) throw new RunNotFoundError(runId);
    return e;
  }

  /** A 'running' run nobody holds is reported as interrupted, as the interface says. */
  private status(e: Entry) {
    return e.file.status === 'running' && !e.locked ? 'interrupted' : e.file.status;
  }

  private notify(e: Entry, change: StoredChange): void {
    for (const w of [...e.watchers]) w(change);
  }

  private session(e: Entry): RunSession {
    if (e.locked) throw new RunLockedError(e.file.id, process.pid);
    e.locked = true;
    let open = true;
    const check = () => {
      if (!open) throw new Error(`run ${e.file.id}: session closed`);
    };
    return {
      runId: e.file.id,
      get file() {
        return e.file;
      },
      evaluations: e.evaluations,
      append: async (record: StoredEvaluation) => {
        check();
        if (record.index !== e.evaluations.length) {
          throw new Error(
            `evaluation ${record.index} appended where ${e.evaluations.length} is next`,
          );
        }
        e.evaluations.push(record);
        this.notify(e, { type: 'evaluations', evaluations: [record] });
      },
      update: async (patch: RunFilePatch) => {
        check();
        e.file = { ...e.file, ...patch, updatedAt: new Date().toISOString() };
        this.notify(e, { type: 'run', file: e.file, status: this.status(e) });
      },
      putWeights: async (index: number, bytes: Uint8Array) => {
        check();
        e.weights.set(index, bytes);
      },
      pruneWeights: async (keep: readonly number[]) => {
        check();
        for (const i of [...e.weights.keys()]) if (!keep.includes(i)) e.weights.delete(i);
      },
      close: async () => {
        if (!open) return;
        open = false;
        e.locked = false;
        if (e.file.status === 'running') {
          this.notify(e, { type: 'run', file: e.file, status: this.status(e) });
        }
      },
    };
  }
}
