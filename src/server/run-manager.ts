/**
 * Holds the runs this server knows: the live SearchRun objects it started or resumed (with their
 * in-memory {@link RunState}) and the runs found on disk. Starts, pauses, resumes and stops runs.
 * A run left 'running' on disk by a process that is gone is shown as 'interrupted' and can be resumed.
 * Runs keep going whether or not any client is watching.
 */
import type { RunStatus, SearchEvent, SearchEventListener } from '../core/events.js';
import { RunStatusError } from '../store/errors.js';
import { ConflictError, NotFoundError } from './http-errors.js';
import type { SearchConfig } from '../core/search-config.js';
import type { RunSummary } from '../store/run-store.js';
import { RunState, type RunOverview, type StoredRun } from './run-state.js';

/** The part of a SearchRun the server drives. */
export interface LiveSearchRun {
  readonly id: string;
  status(): RunStatus;
  on(listener: SearchEventListener): () => void;
  run(): Promise<void>;
  pause(): void;
  /** Resolves once the status 'stopped' is stored (see SearchRun.stop). */
  stop(): Promise<void>;
  /** Releases the run folder while the run is not running. */
  close?(): Promise<void>;
}

/**
 * How the manager creates, opens and reads runs: the search and the store, plus the choice of
 * evaluator. See search-engine.ts for the real one.
 */
export interface RunEngine {
  /** Validates a search config given by a client; throws RequestValidationError (400) when bad. */
  parseConfig(body: unknown): SearchConfig;
  create(config: SearchConfig): Promise<LiveSearchRun>;
  open(runId: string): Promise<LiveSearchRun>;
  list(): Promise<readonly RunSummary[]>;
  /** The stored run, or undefined when there is no run with that id. */
  read(runId: string): Promise<StoredRun | undefined>;
  /** Releases what the engine holds (e.g. an evaluation worker). */
  close?(): Promise<void>;
}

interface LiveEntry {
  readonly run: LiveSearchRun;
  /** Settles when the current run() call returns (paused, stopped, completed or failed). */
  done: Promise<void>;
  running: boolean;
}

export class RunManager {
  private readonly states = new Map<string, RunState>();
  private readonly loading = new Map<string, Promise<RunState | undefined>>();
  private readonly live = new Map<string, LiveEntry>();
  private readonly changeListeners = new Set<(state: RunState, event: SearchEvent) => void>();
  private closed = false;
  private readonly poller: NodeJS.Timeout;

  /**
   * @param pollMs how often runs that another process is running are re-read from disk, so that
   *   they update live too (default 2 s).
   */
  constructor(
    private readonly engine: RunEngine,
    pollMs = 2000,
  ) {
    this.poller = setInterval(() => void this.pollExternal(), pollMs);
    this.poller.unref();
  }

  /** Every run on disk plus the live ones, newest first. */
  async list(): Promise<RunOverview[]> {
    const stored = await this.engine.list();
    const out: RunOverview[] = [];
    const listed = new Set<string>();
    for (const s of stored) {
      listed.add(s.id);
      if (s.error !== undefined) {
        // Unreadable on disk (corrupt, newer format): listed as the store describes it, never opened.
        out.push({ ...s, resumable: false, live: false });
        continue;
      }
      const state = await this.state(s.id).catch(() => undefined);
      if (
        state &&
        !state.live &&
        (state.status !== s.status || state.evaluations().length !== s.evaluations)
      ) {
        await this.refresh(state);
      }
      out.push(state ? state.overview() : { ...s, resumable: false, live: false });
    }
    for (const state of this.states.values()) {
      if (!listed.has(state.id)) out.push(state.overview());
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** The run's state (loaded from disk on first use), or undefined for an unknown run. */
  async state(runId: string): Promise<RunState | undefined> {
    const cached = this.states.get(runId);
    if (cached) return cached;
    let pending = this.loading.get(runId);
    if (!pending) {
      pending = this.load(runId);
      this.loading.set(runId, pending);
      pending.finally(() => this.loading.delete(runId)).catch(() => {});
    }
    return pending;
  }

  /** Like {@link state} but throws a 404 for an unknown run. */
  async require(runId: string): Promise<RunState> {
    const state = await this.state(runId);
    if (!state) throw new NotFoundError(`unknown run: ${runId}`);
    return state;
  }

  onChange(listener: (state: RunState, event: SearchEvent) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Starts a new search from a client's config (validated by the engine). */
  async start(body: unknown): Promise<RunOverview> {
    if (this.closed) throw new ConflictError('the server is shutting down');
    const config = this.engine.parseConfig(body);
    const run = await this.engine.create(config);
    const stored = await this.engine.read(run.id);
    if (!stored) throw new Error(`run ${run.id} was created but cannot be read back`);
    const state = this.adopt(new RunState(stored));
    await this.launch(run, state);
    return state.overview();
  }

  /** Pauses a run this server is running (409 otherwise). */
  async pause(runId: string): Promise<RunOverview> {
    const state = await this.require(runId);
    const entry = this.live.get(runId);
    if (!entry?.running) {
      throw new ConflictError(`run ${runId} is ${state.status}, not running: nothing to pause`);
    }
    entry.run.pause();
    await entry.done;
    return state.overview();
  }

  /**
   * Stops a run: a running one after its evaluation in flight; a paused, interrupted or new one at
   * once (SearchRun.stop stores the status). A stopped run can still be resumed. 409 when the run is
   * completed, failed, already stopped or run by another process.
   */
  async stop(runId: string): Promise<RunOverview> {
    const state = await this.require(runId);
    const entry = this.live.get(runId);
    if (entry?.running) {
      await entry.run.stop();
      await entry.done;
      return state.overview();
    }
    if (entry) await entry.done;
    const run = entry?.run ?? (await this.engine.open(runId));
    const unlisten = run.on((event) => state.apply(event));
    try {
      await run.stop();
    } catch (err) {
      if (!entry) await run.close?.(); // release the folder the engine opened
      if (err instanceof RunStatusError) throw new ConflictError(err.message);
      throw err;
    } finally {
      unlisten();
    }
    // Keep the run object: resuming continues from it.
    this.live.set(runId, { run, done: Promise.resolve(), running: false });
    return state.overview();
  }

  /** Resumes a paused, stopped or interrupted run (in this process, from its saved state). */
  async resume(runId: string): Promise<RunOverview> {
    if (this.closed) throw new ConflictError('the server is shutting down');
    const state = await this.require(runId);
    const entry = this.live.get(runId);
    if (entry?.running) throw new ConflictError(`run ${runId} is already ${state.status}`);
    if (!state.resumable()) {
      throw new ConflictError(
        `run ${runId} is ${state.status}; only a paused, stopped or interrupted run can be resumed`,
      );
    }
    if (entry) await entry.done;
    // The run object this server already holds continues from its saved checkpoint; otherwise the
    // run is opened from disk.
    const run = entry?.run ?? (await this.engine.open(runId));
    await this.launch(run, state);
    return state.overview();
  }

  /** Pauses every running run and waits (up to `timeoutMs`) for them to save and return. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    const waits: Promise<void>[] = [];
    for (const entry of this.live.values()) {
      if (!entry.running) continue;
      entry.run.pause();
      waits.push(entry.done);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    await this.engine.close?.();
  }

  /** Number of runs executing in this process right now. */
  liveCount(): number {
    let n = 0;
    for (const entry of this.live.values()) if (entry.running) n += 1;
    return n;
  }

  /** Resolves when the run's current run() call has returned (for tests and shutdown). */
  async settled(runId: string): Promise<void> {
    await this.live.get(runId)?.done;
  }

  /** Re-reads the runs another process is running and applies what changed. */
  private async pollExternal(): Promise<void> {
    for (const state of this.states.values()) {
      if (!state.live && (state.status === 'running' || state.status === 'created')) {
        await this.refresh(state).catch(() => {});
      }
    }
  }

  private async refresh(state: RunState): Promise<void> {
    const stored = await this.engine.read(state.id);
    if (stored && !state.live) state.syncFrom(stored);
  }

  private async load(runId: string): Promise<RunState | undefined> {
    const stored = await this.engine.read(runId);
    if (!stored) return undefined;
    const existing = this.states.get(runId);
    if (existing) return existing;
    return this.adopt(new RunState(stored));
  }

  private adopt(state: RunState): RunState {
    this.states.set(state.id, state);
    state.onEvent((_seq, event) => {
      for (const listener of this.changeListeners) listener(state, event);
    });
    return state;
  }

  /** Runs `run` in the background; resolves once it reports 'running' (or has already returned). */
  private launch(run: LiveSearchRun, state: RunState): Promise<void> {
    state.live = true;
    let markStarted: () => void = () => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const unlisten = run.on((event) => {
      state.apply(event);
      if (event.type === 'run-status' && event.status === 'running') markStarted();
    });
    const entry: LiveEntry = { run, done: Promise.resolve(), running: true };
    entry.done = run
      .run()
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (state.status !== 'failed') state.setStatus('failed', message);
      })
      .finally(() => {
        entry.running = false;
        state.live = false;
        unlisten();
        const status = run.status();
        if (status !== state.status) state.setStatus(status);
        markStarted();
      });
    this.live.set(run.id, entry);
    return started;
  }
}
