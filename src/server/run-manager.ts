/**
 * The server's runs: one {@link RunProjection} per run it shows, built from storage and kept up to
 * date by watching storage, whichever process runs the run; and run control (start, pause, resume,
 * stop) through the runner's public API for the runs this process executes. What a run is (its
 * status, evaluations, generations) comes from storage only; from the runner the manager takes
 * only what is being evaluated right now (activity) and when run() starts and returns. Every
 * "may this run be paused, stopped or resumed" is asked of core's status machine.
 * Runs keep going whether or not any client is watching.
 */
import type { SequencedChange } from '../core/live-feed.js';
import type { RunStatus, SearchEventListener } from '../core/events.js';
import { canTransition, isResumable, refusal, type RunAction } from '../core/run-status.js';
import type { RunOverview } from '../core/run-view.js';
import type { SearchConfig } from '../core/search-config.js';
import type { WorkersReport } from '../core/workers.js';
import { RunNotFoundError, RunStatusError } from '../store/errors.js';
import type { RunStorage } from '../store/run-storage.js';
import { ConflictError, HttpError, NotFoundError } from './http-errors.js';
import { RunProjection, changesOf, storedRunChanges } from './run-state.js';

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
 * How the manager creates and opens runs (the runner, plus the choice of evaluator) and the
 * storage they write to, which the manager reads and watches. See search-engine.ts.
 */
export interface RunEngine {
  readonly storage: RunStorage;
  /** Validates a search config given by a client; throws RequestValidationError (400) when bad. */
  parseConfig(body: unknown): SearchConfig;
  create(config: SearchConfig): Promise<LiveSearchRun>;
  open(runId: string): Promise<LiveSearchRun>;
  /** The workers evaluating this engine's real runs, and the evaluations waiting for one. */
  workers?(): Promise<WorkersReport>;
  /**
   * Deletes a run's folder, or moves it out of the runs list (archive), after taking its lock
   * (RunLockedError when a process holds it). The manager checks first that nothing runs it here.
   */
  retire?(runId: string, how: RetireAction): Promise<void>;
  /** Releases what the engine holds (e.g. an evaluation worker, the storage's watchers). */
  close?(): Promise<void>;
}

interface LiveEntry {
  readonly run: LiveSearchRun;
  /** Settles when the current run() call has returned and the projection caught up. */
  done: Promise<void>;
  running: boolean;
}

interface Shown {
  readonly projection: RunProjection;
  readonly unwatch: () => void;
}

/** What DELETE /api/runs/:id and POST /api/runs/:id/archive do to a run that is not running. */
export type RetireAction = 'delete' | 'archive';

export type ProjectionListener = (projection: RunProjection, item: SequencedChange) => void;

const TARGET: Partial<Record<RunAction, RunStatus>> = {
  pause: 'paused',
  stop: 'stopped',
  resume: 'running',
};

/** The 409 for `action` in `status`, from core's status machine ("already stopped" and the like). */
function refused(runId: string, status: RunStatus, action: RunAction): ConflictError {
  const message = refusal(runId, status, action);
  return new ConflictError(
    TARGET[action] === status
      ? message.replace(`run ${runId} is ${status}`, `run ${runId} is already ${status}`)
      : message,
  );
}

export class RunManager {
  private readonly shown = new Map<string, Shown>();
  private readonly loading = new Map<string, Promise<RunProjection | undefined>>();
  private readonly live = new Map<string, LiveEntry>();
  private readonly listeners = new Set<ProjectionListener>();
  readonly storage: RunStorage;
  private closed = false;

  constructor(private readonly engine: RunEngine) {
    this.storage = engine.storage;
  }

  /** Every run in storage plus any shown here and not listed, newest first. */
  async list(): Promise<RunOverview[]> {
    const stored = await this.storage.list();
    const out: RunOverview[] = [];
    const listed = new Set<string>();
    for (const s of stored) {
      listed.add(s.id);
      if (s.error !== undefined) {
        // Unreadable (corrupt, newer format): listed as storage describes it, never opened.
        out.push({ ...s, resumable: false, live: false });
        continue;
      }
      const projection = await this.projection(s.id).catch(() => undefined);
      if (!projection) {
        out.push({ ...s, resumable: false, live: false });
        continue;
      }
      if (s.status !== projection.status || s.evaluations !== projection.evaluationCount) {
        // Storage moved on (a process that died leaves no trace a watcher sees): catch up.
        await this.catchUp(projection).catch(() => {});
      }
      out.push(projection.overview());
    }
    for (const { projection } of this.shown.values()) {
      if (!listed.has(projection.id)) out.push(projection.overview());
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /**
   * The run's projection (read from storage and watched from then on), or undefined for an
   * unknown run. Throws storage's errors for an invalid id or an unreadable run.
   */
  async projection(runId: string): Promise<RunProjection | undefined> {
    const shown = this.shown.get(runId);
    if (shown) return shown.projection;
    let pending = this.loading.get(runId);
    if (!pending) {
      pending = this.load(runId);
      this.loading.set(runId, pending);
      pending.finally(() => this.loading.delete(runId)).catch(() => {});
    }
    return pending;
  }

  /** Like {@link projection} but throws a 404 for an unknown run. */
  async require(runId: string): Promise<RunProjection> {
    const projection = await this.projection(runId);
    if (!projection) throw new NotFoundError(`unknown run: ${runId}`);
    return projection;
  }

  /** Listens to every change applied to any projection. */
  onChange(listener: ProjectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts a new search from a client's config (validated by the engine). */
  async start(body: unknown): Promise<RunOverview> {
    if (this.closed) throw new ConflictError('the server is shutting down');
    const config = this.engine.parseConfig(body);
    const run = await this.engine.create(config);
    const projection = await this.require(run.id);
    await this.launch(run, projection);
    return projection.overview();
  }

  /** Pauses a run this process is running (409 otherwise). */
  async pause(runId: string): Promise<RunOverview> {
    const projection = await this.require(runId);
    const entry = this.live.get(runId);
    if (!entry?.running) {
      if (canTransition(projection.status, 'pause')) {
        throw new ConflictError(`run ${runId} is being run by another process: pause it there`);
      }
      throw refused(runId, projection.status, 'pause');
    }
    entry.run.pause();
    await entry.done;
    return projection.overview();
  }

  /**
   * Stops a run: a running one after its evaluation in flight; a paused, interrupted or new one at
   * once (SearchRun.stop stores the status). A stopped run can still be resumed. 409 when the
   * status machine does not allow it, or another process runs the run.
   */
  async stop(runId: string): Promise<RunOverview> {
    const projection = await this.require(runId);
    let entry = this.live.get(runId);
    if (entry?.running) {
      await entry.run.stop();
      await entry.done;
      return projection.overview();
    }
    if (entry) await entry.done;
    await this.catchUp(projection);
    const status = projection.status;
    if (status === 'running') {
      throw new ConflictError(`run ${runId} is being run by another process: stop it there`);
    }
    if (!canTransition(status, 'stop')) throw refused(runId, status, 'stop');
    entry = this.live.get(runId);
    const run = entry?.run ?? (await this.openForControl(runId));
    try {
      await run.stop();
    } catch (err) {
      if (!entry) await run.close?.(); // release the folder opened here
      if (err instanceof RunStatusError) throw new ConflictError(err.message);
      throw err;
    }
    // Keep the run object: resuming continues from it.
    this.live.set(runId, { run, done: Promise.resolve(), running: false });
    await this.catchUp(projection);
    return projection.overview();
  }

  /** Resumes a paused, stopped, interrupted or never started run in this process. */
  async resume(runId: string): Promise<RunOverview> {
    if (this.closed) throw new ConflictError('the server is shutting down');
    const projection = await this.require(runId);
    const entry = this.live.get(runId);
    if (entry?.running) throw new ConflictError(`run ${runId} is already ${projection.status}`);
    if (entry) await entry.done;
    await this.catchUp(projection);
    if (!isResumable(projection.status)) throw refused(runId, projection.status, 'resume');
    // The run object this server already holds continues from its saved checkpoint; otherwise the
    // run is opened from storage.
    const run = this.live.get(runId)?.run ?? (await this.openForControl(runId));
    await this.launch(run, projection);
    return projection.overview();
  }

  /**
   * Deletes or archives a run that nothing runs: 409 for a run running here or in another process
   * (pause or stop it first). The run is forgotten here (its watcher and any run object kept for
   * resuming), then the engine removes or moves its folder.
   */
  async retire(runId: string, how: RetireAction): Promise<void> {
    if (!this.engine.retire) throw new HttpError(501, `this server cannot ${how} runs`);
    const projection = await this.require(runId);
    const entry = this.live.get(runId);
    if (entry?.running) {
      throw new ConflictError(`run ${runId} is running: pause or stop it before it can be ${how}d`);
    }
    if (entry) await entry.done;
    await this.catchUp(projection).catch(() => {});
    if (projection.status === 'running') {
      throw new ConflictError(
        `run ${runId} is being run by another process: stop it there before it can be ${how}d`,
      );
    }
    if (entry) {
      await entry.run.close?.();
      this.live.delete(runId);
    }
    const shown = this.shown.get(runId);
    if (shown) {
      shown.unwatch();
      this.shown.delete(runId);
    }
    await this.engine.retire(runId, how);
  }

  /** Pauses every running run and waits (up to `timeoutMs`) for them to save and return. */
  async close(timeoutMs = 30_000): Promise<void> {
    this.closed = true;
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
    for (const { unwatch } of this.shown.values()) unwatch();
    this.shown.clear();
    await this.engine.close?.();
  }

  /** The engine's workers (an engine that tells none: evaluations in this process, none shown). */
  async workers(): Promise<WorkersReport> {
    if (this.engine.workers) return this.engine.workers();
    return {
      placement: 'in-process',
      description: 'evaluations run in this process',
      workers: [],
      waiting: 0,
      active: 0,
      at: new Date().toISOString(),
    };
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

  /** Brings a projection up to what storage holds now. */
  private async catchUp(projection: RunProjection): Promise<void> {
    const stored = await this.storage.readAfter(projection.id, projection.evaluationCount);
    for (const change of storedRunChanges(stored)) projection.apply(change);
  }

  private async openForControl(runId: string): Promise<LiveSearchRun> {
    try {
      return await this.engine.open(runId);
    } catch (err) {
      if (err instanceof RunStatusError) throw new ConflictError(err.message);
      throw err;
    }
  }

  private async load(runId: string): Promise<RunProjection | undefined> {
    let stored;
    try {
      stored = await this.storage.read(runId);
    } catch (err) {
      if (err instanceof RunNotFoundError) return undefined;
      throw err;
    }
    const existing = this.shown.get(runId);
    if (existing) return existing.projection;
    const projection = new RunProjection(stored);
    projection.onChange((item) => {
      for (const listener of this.listeners) listener(projection, item);
    });
    // Watching from what the read above holds: storage first reports the run file and every
    // evaluation stored since (a write by another process in between is not lost), then each change;
    // the projection drops what it already holds.
    const unwatch = this.storage.watch(
      runId,
      (change) => {
        for (const c of changesOf(change)) projection.apply(c);
      },
      stored.evaluations.length,
    );
    this.shown.set(runId, { projection, unwatch });
    return projection;
  }

  /**
   * Runs `run` in the background. Resolves once it reports 'running' and the projection holds
   * that status; rejects when run() fails before that (nothing was stored, so the request fails).
   */
  private launch(run: LiveSearchRun, projection: RunProjection): Promise<void> {
    projection.setLive(true);
    let markStarted: (err?: unknown) => void = () => {};
    const started = new Promise<void>((resolve, reject) => {
      markStarted = (err) => (err === undefined ? resolve() : reject(err));
    });
    let isStarted = false;
    const generationOf = new Map<number, number>();
    const unlisten = run.on((event) => {
      // Only what is being evaluated is taken from the runner; stored facts come from storage.
      if (event.type === 'evaluation-started') {
        generationOf.clear();
        generationOf.set(event.index, event.generation);
        projection.apply({
          type: 'activity',
          activity: {
            index: event.index,
            generation: event.generation,
            phase: 'started',
            done: 0,
            total: 1,
          },
        });
      } else if (event.type === 'evaluation-progress') {
        projection.apply({
          type: 'activity',
          activity: {
            index: event.index,
            generation: generationOf.get(event.index) ?? projection.view.run.generation,
            phase: event.phase,
            done: event.done,
            total: event.total,
          },
        });
      } else if (event.type === 'run-status' && event.status === 'running' && !isStarted) {
        isStarted = true;
        this.catchUp(projection).then(
          () => markStarted(),
          () => markStarted(),
        );
      }
    });
    const entry: LiveEntry = { run, done: Promise.resolve(), running: true };
    entry.done = run
      .run()
      .then(
        () => undefined,
        (err: unknown) => err,
      )
      .then(async (failure) => {
        entry.running = false;
        unlisten();
        await this.catchUp(projection).catch(() => {});
        projection.setLive(false);
        if (!isStarted) {
          isStarted = true;
          markStarted(failure);
        } else if (failure !== undefined && projection.status !== 'failed') {
          const message = failure instanceof Error ? failure.message : String(failure);
          process.stderr.write(`robust-nas: run ${run.id} ended with an error: ${message}\n`);
        }
      });
    this.live.set(run.id, entry);
    return started;
  }
}
