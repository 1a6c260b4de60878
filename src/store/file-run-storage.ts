/**
 * The file backend of RunStorage: one folder per run under `runsDir`:
 *
 *   runs/<runId>/run.json            config, status, checkpoint, generations: written through lowdb
 *                                    (its steno writer: temp file `.run.json.tmp`, then rename), then
 *                                    fsynced with its folder
 *   runs/<runId>/evaluations.jsonl   one evaluation per line, appended and fdatasynced
 *   runs/<runId>/weights/<i>.weights trained weights of front members (temp file + rename)
 *   runs/<runId>/run.lock            the writer's lock while a session is open (run-lock.ts)
 *
 * Durability of run.json: steno writes the temp file and renames it without fsync, so after a
 * power cut the rename could reach the disk before the data and leave an empty run.json. run.json
 * is written only at status changes and generation ends (not per evaluation), so an fsync there
 * costs nothing that matters: each update fsyncs run.json and its folder before it resolves. The
 * remaining window (between steno's rename and our fsync, a millisecond) is closed on ext4's
 * default mount (auto_da_alloc flushes a file renamed over another); elsewhere a power cut inside it
 * leaves a run.json that is reported corrupt and never overwritten. Evaluations never depend on it:
 * each is fdatasynced in the journal before append() resolves.
 *
 * Opening a session changes nothing on disk except its lock: the leftovers of a crash (a torn last
 * journal line, temp files of run.json and of weights) are removed by the session's first write, so
 * a session opened only to be refused (stop on a completed run, say) leaves every byte as it was.
 */
import { mkdir, open, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { InputError } from '../core/errors.js';
import type { RunFile, StoredEvaluation } from '../core/records.js';
import type { RunStatus } from '../core/run-status.js';
import { runHeader, runSummary, type RunSummary } from '../core/run-view.js';
import { fsyncFile, syncDir } from './atomic-write.js';
import { RUN_ID_PATTERN, RunCorruptError, RunNotFoundError, checkRunId } from './errors.js';
import { JournalCorruptError, parseJournalBytes, readFrom } from './json-lines.js';
import { EVALUATIONS_FILE, RUN_FILE } from './run-format.js';
import {
  checkRecords,
  checkReferences,
  parseRunFile,
  readRunFile,
  readRunJournal,
} from './run-reader.js';
import { LOCK_FILE, LockJudge, RunLock, type LockOptions } from './run-lock.js';
import { weightsFile } from './run-weights.js';
import type { RunSession, RunStorage, StoredChange, StoredRun } from './run-storage.js';
import { errno } from './errors.js';
import { runFileAdapter, runFileText } from './run-file-text.js';
import { FileRunSession } from './file-run-session.js';
import { RunWatcher } from './run-watcher.js';

export interface FileRunStorageOptions extends LockOptions {
  /** Quiet time after a file-system notification before the watcher re-reads (default 30 ms). */
  readonly watchDebounceMs?: number;
  /** Interval of the stat poll used where fs.watch is unavailable (default 1 000 ms). */
  readonly watchPollMs?: number;
  /** How often a watcher checks that the holder of a 'running' run still lives (default 1 000 ms). */
  readonly livenessMs?: number;
  /** 'poll' forces the stat poll instead of fs.watch (default 'fs'). */
  readonly watchMode?: 'fs' | 'poll';
}

/** Byte offsets of a journal's lines, remembered so later reads start where the last one ended. */
interface JournalIndex {
  /** Identity of the journal: inode plus the run's creation time (a re-created run starts over). */
  readonly key: string;
  /** Byte offset of the line of evaluation i. */
  readonly starts: number[];
  /** Offset after the last complete line read. */
  end: number;
}

export class FileRunStorage implements RunStorage {
  readonly judge: LockJudge;
  private readonly watchers = new Map<string, Set<RunWatcher>>();
  private readonly journals = new Map<string, JournalIndex>();
  /** Runs held by a session of this object: what its watchers have been told (for baselines). */
  private readonly held = new Map<string, { count: number; text: string }>();

  constructor(
    readonly runsDir: string,
    readonly options: FileRunStorageOptions = {},
  ) {
    this.judge = new LockJudge(options);
  }

  /** Folder of a run (after checking the id: InputError for one that could name another path). */
  runDir(runId: string): string {
    return join(this.runsDir, checkRunId(runId));
  }

  validationDir(runId: string): string {
    return join(this.runDir(runId), 'validation');
  }

  weightsPath(runId: string, index: number): string {
    return weightsFile(this.runDir(runId), index);
  }

  /** The status to report: 'running' becomes 'interrupted' when no live process holds the lock. */
  async statusOf(dir: string, file: RunFile): Promise<RunStatus> {
    if (file.status !== 'running') return file.status;
    return (await this.judge.holder(dir)) ? 'running' : 'interrupted';
  }

  async list(): Promise<RunSummary[]> {
    const entries = await this.readAll();
    return entries
      .map((e) =>
        'run' in e
          ? runSummary(runHeader(e.run.file, e.run.status), e.run.evaluations.length)
          : unreadableSummary(e),
      )
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** Every folder of the runs folder that holds a run file, read (or why it cannot be), by name. */
  async readAll(): Promise<RunEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.runsDir);
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    const out: RunEntry[] = [];
    for (const id of names.sort()) {
      if (!RUN_ID_PATTERN.test(id)) continue;
      let runStat;
      try {
        runStat = await stat(join(this.runsDir, id, RUN_FILE));
        if (!runStat.isFile()) continue;
      } catch {
        continue;
      }
      try {
        out.push({ id, run: await this.read(id) });
      } catch (err) {
        out.push({
          id,
          error: err instanceof Error ? err.message : String(err),
          createdAt: runStat.birthtime.toISOString(),
          updatedAt: runStat.mtime.toISOString(),
        });
      }
    }
    return out;
  }

  async read(runId: string): Promise<StoredRun> {
    const dir = this.runDir(runId);
    const file = await readRunFile(dir, runId);
    const { evaluations, total } = await this.evaluationsFrom(dir, runId, file, 0);
    checkReferences(runId, file, total);
    return { file, status: await this.statusOf(dir, file), evaluations };
  }

  /**
   * The run file and the evaluations from index `from` on. Cost: run.json is read and checked each
   * time (a few kB); of the journal, only the bytes from evaluation `from` on are read when this
   * storage object has read the journal before (it remembers each line's byte offset), otherwise the
   * whole journal once (about 1.5 kB per evaluation).
   */
  async readAfter(runId: string, from: number): Promise<StoredRun> {
    const dir = this.runDir(runId);
    const file = await readRunFile(dir, runId);
    const { evaluations, total } = await this.evaluationsFrom(dir, runId, file, from);
    checkReferences(runId, file, total);
    return { file, status: await this.statusOf(dir, file), evaluations };
  }

  /** Evaluations with index >= from, and how many the journal holds. */
  async evaluationsFrom(
    dir: string,
    runId: string,
    file: RunFile,
    from: number,
  ): Promise<{ evaluations: StoredEvaluation[]; total: number }> {
    const path = join(dir, EVALUATIONS_FILE);
    let ino: number;
    try {
      ino = (await stat(path)).ino;
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
      this.journals.delete(dir);
      return { evaluations: [], total: 0 };
    }
    const key = `${ino}:${file.createdAt}`;
    const known = this.journals.get(dir);
    if (known && known.key === key) {
      try {
        const first = Math.min(from, known.starts.length);
        const offset = first < known.starts.length ? known.starts[first]! : known.end;
        const parsed = parseJournalBytes(await readFrom(path, offset), offset, first + 1);
        const records = checkRecords(runId, parsed.values, first);
        for (let k = 0; k < records.length; k++) {
          if (first + k === known.starts.length) known.starts.push(parsed.starts[k]!);
        }
        if (parsed.validBytes > known.end) known.end = parsed.validBytes;
        return {
          evaluations: records.slice(from - first),
          total: known.starts.length,
        };
      } catch (err) {
        if (!(err instanceof RunCorruptError || err instanceof JournalCorruptError)) throw err;
        // The remembered offsets do not fit the file any more: read it whole below.
      }
    }
    const journal = await readRunJournal(dir, runId);
    const records = checkRecords(runId, journal.values);
    this.journals.set(dir, { key, starts: [...journal.starts], end: journal.validBytes });
    return { evaluations: records.slice(from), total: records.length };
  }

  /** Notes a line appended by a session of this storage (keeps the offsets of the journal). */
  private noteAppended(dir: string, start: number, end: number, index: number): void {
    const known = this.journals.get(dir);
    if (known && known.starts.length === index && known.end <= start) {
      known.starts.push(start);
      known.end = end;
    }
  }

  async create(file: RunFile): Promise<RunSession> {
    const runId = checkRunId(file.id);
    try {
      parseRunFile(runId, runFileText(file));
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new InputError(`cannot create run ${runId}: its run file is invalid (${detail})`);
    }
    await mkdir(this.runsDir, { recursive: true });
    const dir = join(this.runsDir, runId);
    let madeDir = true;
    try {
      await mkdir(dir);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      madeDir = false;
      await refuseUnlessEmpty(dir, runId, []);
    }
    const lock = await RunLock.acquire(dir, runId, this.judge);
    const made: string[] = [];
    // Watchers started from now on learn of the run from this session: all of it is news.
    this.held.set(runId, { count: 0, text: '' });
    try {
      // Another process may have created the run between our check and our lock.
      await refuseUnlessEmpty(dir, runId, [LOCK_FILE]);
      const db = new Low<RunFile>(runFileAdapter(join(dir, RUN_FILE)), file);
      made.push(RUN_FILE, `.${RUN_FILE}.tmp`);
      await db.write();
      await fsyncFile(join(dir, RUN_FILE));
      made.push(EVALUATIONS_FILE);
      await (await open(join(dir, EVALUATIONS_FILE), 'wx')).close();
      await syncDir(dir);
      const session = new FileRunSession(this, dir, lock, db, [], {
        validBytes: 0,
        torn: false,
        missingNewline: false,
        repaired: true,
      });
      this.notifyRun(runId, db.data, runFileText(db.data), db.data.status);
      return session;
    } catch (err) {
      // Undo our own half-made run (never anything we did not create), then let go.
      await Promise.all(made.map((n) => rm(join(dir, n), { force: true }).catch(() => {})));
      this.held.delete(runId);
      await lock.release().catch(() => {});
      if (madeDir) await rmdir(dir).catch(() => {});
      throw err;
    }
  }

  async open(runId: string): Promise<RunSession> {
    const dir = this.runDir(runId);
    // Not found, corrupt or newer: refused before anything (even the lock) is written.
    await readRunFile(dir, runId);
    const lock = await RunLock.acquire(dir, runId, this.judge);
    try {
      let text: string;
      try {
        text = await readFile(join(dir, RUN_FILE), 'utf8');
      } catch (err) {
        if (errno(err) === 'ENOENT') throw new RunNotFoundError(runId);
        throw err;
      }
      const file = parseRunFile(runId, text);
      const journal = await readRunJournal(dir, runId);
      const evaluations = checkRecords(runId, journal.values);
      checkReferences(runId, file, evaluations.length);
      const ino = await stat(join(dir, EVALUATIONS_FILE)).then(
        (s) => s.ino,
        () => undefined,
      );
      if (ino !== undefined) {
        this.journals.set(dir, {
          key: `${ino}:${file.createdAt}`,
          starts: [...journal.starts],
          end: journal.validBytes,
        });
      }
      const db = new Low<RunFile>(runFileAdapter(join(dir, RUN_FILE)), file);
      this.held.set(runId, { count: evaluations.length, text });
      return new FileRunSession(this, dir, lock, db, evaluations, {
        validBytes: journal.validBytes,
        torn: journal.torn,
        missingNewline: journal.missingNewline,
        repaired: false,
      });
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  watch(runId: string, listener: (change: StoredChange) => void, from?: number): () => void {
    const dir = this.runDir(runId);
    const w = new RunWatcher(this, runId, dir, listener, this.options);
    let set = this.watchers.get(runId);
    if (!set) this.watchers.set(runId, (set = new Set()));
    set.add(w);
    w.start(from);
    return () => {
      w.stop();
      const s = this.watchers.get(runId);
      s?.delete(w);
      if (s?.size === 0) this.watchers.delete(runId);
    };
  }

  async close(): Promise<void> {
    for (const set of this.watchers.values()) for (const w of set) w.stop();
    this.watchers.clear();
  }

  /** @internal Called by a session after a durable append. */
  noteAppend(
    runId: string,
    dir: string,
    record: StoredEvaluation,
    start: number,
    end: number,
  ): void {
    this.noteAppended(dir, start, end, record.index);
    const held = this.held.get(runId);
    if (held) held.count = record.index + 1;
    for (const w of this.watchers.get(runId) ?? []) w.evaluationsWritten([record]);
  }

  /** @internal What the watchers of a run held here have been told, if a session holds it. */
  heldState(runId: string): { readonly count: number; readonly text: string } | undefined {
    return this.held.get(runId);
  }

  /** @internal Called by a session when it lets go of the run. */
  released(runId: string): void {
    this.held.delete(runId);
  }

  /** @internal Called after run.json was written (or the session let go of a running run). */
  notifyRun(runId: string, file: RunFile, text: string, status: RunStatus): void {
    const held = this.held.get(runId);
    if (held) held.text = text;
    for (const w of this.watchers.get(runId) ?? []) w.runWritten(file, text, status);
  }
}

export type RunEntry =
  | { readonly id: string; readonly run: StoredRun }
  | {
      readonly id: string;
      /** Why the run cannot be read (corrupt, newer format): it is listed, never opened. */
      readonly error: string;
      readonly createdAt: string;
      readonly updatedAt: string;
    };

/** How an unreadable run is listed: failed, with nothing planned, and the reason. */
export function unreadableSummary(e: Extract<RunEntry, { error: string }>): RunSummary {
  return {
    id: e.id,
    status: 'failed',
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    generation: 0,
    generations: 0,
    evaluations: 0,
    plannedEvaluations: 0,
    objectives: [],
    strategy: 'nsga2',
    evaluator: 'real',
    error: e.error,
  };
}

async function refuseUnlessEmpty(dir: string, runId: string, allowed: string[]): Promise<void> {
  const names = (await readdir(dir)).filter((n) => !allowed.includes(n)).sort();
  if (names.length > 0) {
    const shown = names.length > 6 ? [...names.slice(0, 6), `${names.length - 6} more`] : names;
    throw new InputError(
      `cannot create run ${runId}: its folder ${dir} already exists and holds ${shown.join(', ')} (choose another run id, or move that folder away)`,
    );
  }
}
