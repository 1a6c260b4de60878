/**
 * RunStorage in memory, with the file backend's semantics (the shared conformance suite in
 * tests/store/store-conformance.test.ts runs against both): one writing session per run (RunLockedError
 * naming this process otherwise), a 'running' run nobody holds reads as 'interrupted', watchers hear
 * every write at once, each evaluation once. For unit tests of the server and the runner, and as the
 * proof that the interface leaves room for another backend.
 */
import { hostname } from 'node:os';
import { InputError } from '../../src/core/errors.js';
import type { RunFile, StoredEvaluation } from '../../src/core/records.js';
import type { RunStatus } from '../../src/core/run-status.js';
import { runHeader, runSummary, type RunSummary } from '../../src/core/run-view.js';
import { RunLockedError, RunNotFoundError, checkRunId } from '../../src/store/errors.js';
import { evaluationRecordSchema } from '../../src/store/run-format.js';
import { checkReferences, parseRunFile } from '../../src/store/run-reader.js';
import type {
  RunFilePatch,
  RunSession,
  RunStorage,
  StoredChange,
  StoredRun,
} from '../../src/store/run-storage.js';

interface MemoryRun {
  file: RunFile;
  readonly evaluations: StoredEvaluation[];
  readonly weights: Map<number, Uint8Array>;
  holder: MemorySession | undefined;
}

type Listener = (change: StoredChange) => void;

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryRunStorage implements RunStorage {
  private readonly runs = new Map<string, MemoryRun>();
  private readonly watchers = new Map<string, Set<Listener>>();

  private get(runId: string): MemoryRun {
    const run = this.runs.get(checkRunId(runId));
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  private status(run: MemoryRun): RunStatus {
    return run.file.status === 'running' && !run.holder ? 'interrupted' : run.file.status;
  }

  async list(): Promise<RunSummary[]> {
    return [...this.runs.values()]
      .map((r) => runSummary(runHeader(clone(r.file), this.status(r)), r.evaluations.length))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  async read(runId: string): Promise<StoredRun> {
    return this.readAfter(runId, 0);
  }

  async readAfter(runId: string, from: number): Promise<StoredRun> {
    const run = this.get(runId);
    return {
      file: clone(run.file),
      status: this.status(run),
      evaluations: clone(run.evaluations.slice(Math.max(0, from))),
    };
  }

  async create(file: RunFile): Promise<RunSession> {
    const runId = checkRunId(file.id);
    try {
      parseRunFile(runId, JSON.stringify(file));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new InputError(`cannot create run ${runId}: its run file is invalid (${detail})`);
    }
    if (this.runs.has(runId)) {
      throw new InputError(`cannot create run ${runId}: it already exists`);
    }
    const run: MemoryRun = {
      file: clone(file),
      evaluations: [],
      weights: new Map(),
      holder: undefined,
    };
    this.runs.set(runId, run);
    const session = new MemorySession(this, run);
    run.holder = session;
    this.notify(runId, { type: 'run', file: clone(run.file), status: run.file.status });
    return session;
  }

  async open(runId: string): Promise<RunSession> {
    const run = this.get(runId);
    if (run.holder) throw new RunLockedError(runId, process.pid, hostname());
    const session = new MemorySession(this, run);
    run.holder = session;
    return session;
  }

  watch(runId: string, listener: Listener, from?: number): () => void {
    checkRunId(runId);
    /** Index of the next evaluation to report; undefined until the run exists. */
    let next = from ?? this.runs.get(runId)?.evaluations.length;
    let stopped = false;
    const deliver = (change: StoredChange) => {
      try {
        listener(change);
      } catch {
        // A listener's error must not stop the watch.
      }
    };
    const filtered: Listener = (change) => {
      if (stopped) return;
      if (change.type === 'evaluations') {
        const fresh: StoredEvaluation[] = [];
        let at = next ?? change.evaluations[0]?.index ?? 0;
        for (const e of change.evaluations) {
          if (e.index < at) continue;
          if (e.index !== at) break; // a gap: the catch-up below reports it
          fresh.push(e);
          at++;
        }
        next = at;
        if (fresh.length > 0) deliver({ type: 'evaluations', evaluations: fresh });
        return;
      }
      deliver(change);
    };
    let set = this.watchers.get(runId);
    if (!set) this.watchers.set(runId, (set = new Set()));
    set.add(filtered);
    if (from !== undefined) {
      // Catch up with what the caller has not read, asynchronously as the file backend does.
      queueMicrotask(() => {
        const run = this.runs.get(runId);
        if (stopped || !run) return;
        deliver({ type: 'run', file: clone(run.file), status: this.status(run) });
        const missed = clone(run.evaluations.slice(next ?? 0));
        if (missed.length > 0) filtered({ type: 'evaluations', evaluations: missed });
      });
    }
    return () => {
      stopped = true;
      set.delete(filtered);
    };
  }

  weightsPath(runId: string, index: number): string {
    return `memory:${checkRunId(runId)}/weights/${index}.weights`;
  }

  /** The kept weights of evaluation `index` (memory only: there is no file to read). */
  weights(runId: string, index: number): Uint8Array | undefined {
    return this.get(runId).weights.get(index);
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }

  /** @internal */
  notify(runId: string, change: StoredChange): void {
    for (const l of [...(this.watchers.get(runId) ?? [])]) l(change);
  }
}

class MemorySession implements RunSession {
  readonly runId: string;
  private closed = false;

  constructor(
    private readonly storage: MemoryRunStorage,
    private readonly run: MemoryRun,
  ) {
    this.runId = run.file.id;
  }

  get file(): RunFile {
    return this.run.file;
  }

  get evaluations(): readonly StoredEvaluation[] {
    return this.run.evaluations;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`run ${this.runId}: the session is closed`);
  }

  async append(record: StoredEvaluation): Promise<void> {
    this.assertOpen();
    const next = this.run.evaluations.length;
    if (record.index !== next) {
      throw new Error(
        `run ${this.runId}: evaluation ${record.index} cannot be stored, the next index is ${next}`,
      );
    }
    const checked = evaluationRecordSchema.safeParse(record);
    if (!checked.success) {
      const i = checked.error.issues[0]!;
      throw new Error(
        `run ${this.runId}: evaluation ${record.index} cannot be stored (${i.path.join('.')}: ${i.message})`,
      );
    }
    const stored = clone(record);
    this.run.evaluations.push(stored);
    this.storage.notify(this.runId, { type: 'evaluations', evaluations: [clone(stored)] });
  }

  async update(patch: RunFilePatch): Promise<void> {
    this.assertOpen();
    const text = JSON.stringify({
      ...this.run.file,
      ...patch,
      updatedAt: new Date().toISOString(),
    });
    let file: RunFile;
    try {
      file = parseRunFile(this.runId, text);
      checkReferences(this.runId, file, this.run.evaluations.length);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new Error(`run ${this.runId}: the run file update is invalid (${detail})`);
    }
    this.run.file = JSON.parse(text) as RunFile;
    this.storage.notify(this.runId, {
      type: 'run',
      file: clone(this.run.file),
      status: file.status,
    });
  }

  async putWeights(index: number, bytes: Uint8Array): Promise<void> {
    this.assertOpen();
    this.run.weights.set(index, new Uint8Array(bytes));
  }

  async pruneWeights(keep: readonly number[]): Promise<void> {
    this.assertOpen();
    const kept = new Set(keep);
    for (const i of [...this.run.weights.keys()]) if (!kept.has(i)) this.run.weights.delete(i);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.run.holder === this) this.run.holder = undefined;
    if (this.run.file.status === 'running') {
      this.storage.notify(this.runId, {
        type: 'run',
        file: clone(this.run.file),
        status: 'interrupted',
      });
    }
  }
}
