/** Watching one stored run for changes (FileRunStorage.watch). */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunFile, StoredEvaluation } from '../core/records.js';
import type { RunStatus } from '../core/run-status.js';
import { EVALUATIONS_FILE, RUN_FILE } from './run-format.js';
import { parseRunFile } from './run-reader.js';
import type { StoredChange } from './run-storage.js';
import { errno } from './errors.js';
import type { FileRunStorage, FileRunStorageOptions } from './file-run-storage.js';

/**
 * One watch() listener. Writes through the same storage object are passed on at once
 * (evaluationsWritten, runWritten); writes by other processes are found by re-reading when fs.watch
 * reports a change in the run folder (debounced), or, where fs.watch is unavailable or fails, by a
 * stat poll every `watchPollMs`. A 'running' run's lock is checked every `livenessMs`, so the death
 * of its process is reported as status 'interrupted'. Only what storage holds is reported, each
 * evaluation once, in index order.
 */
export class RunWatcher {
  /** Index of the next evaluation to report (undefined until the first read sets the baseline). */
  private nextIndex: number | undefined;
  private runText: string | undefined;
  private runFile: RunFile | undefined;
  private runSig: string | undefined;
  private journalSig: string | undefined;
  private lastStatus: RunStatus | undefined;
  /** Counts run changes passed on from this process (a re-read started before one is stale). */
  private runVersion = 0;
  /** With `from`: report the run file at the first read even if unchanged. */
  private reportRunFirst = false;
  private fsWatcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private livenessTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning = false;
  private dirty = false;
  private stopped = false;

  constructor(
    private readonly storage: FileRunStorage,
    private readonly runId: string,
    private readonly dir: string,
    private readonly listener: (change: StoredChange) => void,
    private readonly options: FileRunStorageOptions,
  ) {}

  start(from: number | undefined): void {
    if (from !== undefined) {
      this.nextIndex = Math.max(0, Math.floor(from));
      this.reportRunFirst = true;
    } else {
      // A run held by a session of this object: start from what its watchers have been told.
      const held = this.storage.heldState(this.runId);
      if (held) {
        this.nextIndex = held.count;
        this.runText = held.text;
      }
    }
    if (this.options.watchMode !== 'poll') {
      try {
        this.fsWatcher = fsWatch(this.dir, { persistent: false }, () => this.schedule());
        this.fsWatcher.on('error', () => this.fallBackToPolling());
      } catch {
        this.fallBackToPolling();
      }
    } else {
      this.fallBackToPolling();
    }
    this.livenessTimer = setInterval(() => {
      if (this.lastStatus === 'running') this.schedule(0);
    }, this.options.livenessMs ?? 1_000);
    this.livenessTimer.unref();
    this.schedule(0);
  }

  /** fs.watch is missing here (some network or virtual file systems) or failed: poll with stat. */
  private fallBackToPolling(): void {
    this.fsWatcher?.close();
    this.fsWatcher = undefined;
    if (this.stopped || this.pollTimer) return;
    this.pollTimer = setInterval(() => this.schedule(0), this.options.watchPollMs ?? 1_000);
    this.pollTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.fsWatcher?.close();
    clearInterval(this.pollTimer);
    clearInterval(this.livenessTimer);
    clearTimeout(this.debounce);
  }

  private schedule(delay = this.options.watchDebounceMs ?? 30): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.dirty = true;
      return;
    }
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.scan();
    }, delay);
    this.debounce.unref();
  }

  private emit(change: StoredChange): void {
    if (this.stopped) return;
    try {
      this.listener(change);
    } catch {
      // A listener's error must not stop the watch.
    }
  }

  /** Passes on evaluations not reported yet (those from nextIndex on, contiguous). */
  evaluationsWritten(records: readonly StoredEvaluation[]): void {
    if (records.length === 0) return;
    let next = this.nextIndex ?? records[0]!.index;
    const fresh: StoredEvaluation[] = [];
    for (const r of records) {
      if (r.index < next) continue;
      if (r.index !== next) break; // a gap: the next read fills it
      fresh.push(r);
      next++;
    }
    this.nextIndex = next;
    if (fresh.length > 0) this.emit({ type: 'evaluations', evaluations: fresh });
  }

  runWritten(file: RunFile, text: string, status: RunStatus): void {
    this.runVersion++;
    const changed = text !== this.runText || status !== this.lastStatus;
    this.runText = text;
    this.runFile = file;
    this.lastStatus = status;
    this.reportRunFirst = false;
    if (changed) this.emit({ type: 'run', file, status });
  }

  private async scan(): Promise<void> {
    if (this.stopped) return;
    this.scanning = true;
    try {
      await this.read();
    } catch {
      // A run folder being created, removed or corrupt: nothing to report; the next change retries.
    } finally {
      this.scanning = false;
      if (this.dirty && !this.stopped) {
        this.dirty = false;
        this.schedule();
      }
    }
  }

  private async read(): Promise<void> {
    const version = this.runVersion;
    // run.json first: a writer appends evaluations before the run file that refers to them, so a
    // journal read after it holds every evaluation that run file names.
    const runPath = join(this.dir, RUN_FILE);
    let file = this.runFile;
    let text = this.runText;
    const rs = await stat(runPath).catch((err: unknown) => {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!rs) {
      // Not created yet (or removed): once it appears, all of it is news.
      if (this.nextIndex === undefined) this.nextIndex = 0;
      if (this.runText === undefined) this.runText = '';
      return;
    }
    const sig = `${rs.ino}:${rs.size}:${rs.mtimeMs}`;
    if (sig !== this.runSig) {
      let fresh: string;
      try {
        fresh = await readFile(runPath, 'utf8');
      } catch (err) {
        if (errno(err) === 'ENOENT') return; // replaced right now: the rename fires again
        throw err;
      }
      if (fresh !== text) {
        file = parseRunFile(this.runId, fresh);
        text = fresh;
      }
      this.runSig = sig;
    }
    if (!file || text === undefined) return;

    const js = await stat(join(this.dir, EVALUATIONS_FILE)).catch(() => undefined);
    const jsig = js ? `${js.ino}:${js.size}:${js.mtimeMs}` : 'none';
    if (jsig !== this.journalSig || this.nextIndex === undefined) {
      const from = this.nextIndex ?? Number.MAX_SAFE_INTEGER;
      const { evaluations, total } = await this.storage.evaluationsFrom(
        this.dir,
        this.runId,
        file,
        from,
      );
      this.journalSig = jsig;
      // The baseline: what is stored now, or, while a session of this object writes the run, what
      // it has told its watchers (a line on disk whose notice is still coming is not in it).
      if (this.nextIndex === undefined)
        this.nextIndex = this.storage.heldState(this.runId)?.count ?? total;
      else this.evaluationsWritten(evaluations);
    }
    const status = await this.storage.statusOf(this.dir, file);
    if (this.stopped || version !== this.runVersion) return; // this process wrote meanwhile
    if (this.runText === undefined && !this.reportRunFirst) {
      // The baseline (as for evaluations above): nothing to report.
      this.runText = this.storage.heldState(this.runId)?.text ?? text;
      this.runFile = file;
      this.lastStatus = status;
      return;
    }
    const changed = text !== this.runText || status !== this.lastStatus || this.reportRunFirst;
    this.runText = text;
    this.runFile = file;
    this.lastStatus = status;
    this.reportRunFirst = false;
    if (changed) this.emit({ type: 'run', file, status });
  }
}
