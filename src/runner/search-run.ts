/**
 * The runner: one search run's life. It asks the algorithm (src/search/) for candidates, sends them
 * to an evaluator, records the results and checkpoints through storage, and obeys pause and stop.
 * It talks to storage (RunStorage) and to the evaluator (Evaluate) only through their interfaces,
 * and to every other part through the events it publishes.
 *
 * Repeated evaluation: a generation's evaluations are its new candidates' first `initialSeeds` seeds,
 * then one more seed of each survivor of the previous generation that has fewer than `maxSeeds`
 * (generation-end.ts `reevaluations`); a candidate's objectives are the means over its seeds
 * (src/core/candidates.ts).
 *
 * Exact resume: at every generation boundary the run checkpoints the RNG state, the population (with
 * the ranks and crowding distances the tournament uses) and the number of evaluations stored. The
 * evaluations of a generation (candidates, re-evaluations and their seeds) are a pure function of
 * that checkpoint and the evaluations stored before it, so a resumed run regenerates the same list,
 * skips those already stored and evaluates the rest: it ends with exactly the evaluations,
 * populations and fronts of an uninterrupted run with the same seed.
 */
import { randomBytes } from 'node:crypto';
import { seedIndexOf } from '../core/candidates.js';
import { commonSeed } from '../core/seeds.js';
import { genotypeHash } from '../core/canonical.js';
import { InputError } from '../core/errors.js';
import { EvaluationFailure, type Evaluate, type EvaluationResult } from '../core/evaluation.js';
import type { SearchEvent, SearchEventListener } from '../core/events.js';
import type { Genotype } from '../core/genotype.js';
import {
  newRunFile,
  type Checkpoint,
  type RunFile,
  type StoredEvaluation,
} from '../core/records.js';
import { Rng } from '../core/rng.js';
import { canTransition, refusal, type RunAction, type RunStatus } from '../core/run-status.js';
import {
  parseSearchConfig,
  type SearchConfig,
  type SearchConfigInput,
} from '../core/search-config.js';
import { createSurrogateEvaluate } from '../evaluator/surrogate.js';
import type { EvolutionarySearch } from '../search/algorithm.js';
import { createAlgorithm } from '../search/genotype-operators.js';
import { RunStatusError } from '../store/errors.js';
import type { RunFilePatch, RunSession, RunStorage } from '../store/run-storage.js';
import { EvaluationCache, evalConfigHash, type CachedOutcome } from './evaluation-cache.js';
import { endOfGeneration, populationMembers, reevaluations } from './generation-end.js';
import {
  EnvironmentError,
  environmentError,
  recordFromError,
  recordFromScores,
  type RecordBase,
} from './record-outcome.js';

export interface SearchRunOptions {
  readonly storage: RunStorage;
  /** The evaluator. Optional for surrogate runs (the built-in surrogate is always used for them). */
  readonly evaluate?: Evaluate;
  readonly runId?: string;
  /** Evaluations in flight at once (default 1); the stored run does not depend on it. */
  readonly concurrency?: number;
}

/** A fresh run id: UTC date and time plus 6 random hex digits (not from the search's RNG). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function chooseEvaluate(config: SearchConfig, evaluate: Evaluate | undefined): Evaluate {
  if (config.evaluator === 'surrogate') {
    return createSurrogateEvaluate({
      delayMs: config.surrogateDelayMs,
      noise: config.surrogateNoise,
      ...(config.surrogateIcc ? { icc: config.surrogateIcc } : {}),
    });
  }
  if (!evaluate) {
    throw new InputError("this run uses the 'real' evaluator, but none was given");
  }
  return evaluate;
}

type Interrupt = 'pause' | 'stop';

function concurrencyOf(options: { concurrency?: number }): number {
  const n = options.concurrency ?? 1;
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(`concurrency must be a positive integer, got ${n}`);
  return n;
}

export class SearchRun {
  readonly id: string;
  readonly config: SearchConfig;
  private readonly algorithm: EvolutionarySearch<Genotype>;
  private readonly listeners = new Set<SearchEventListener>();
  private readonly configHash: string;
  private cache = new EvaluationCache();
  private evaluations: StoredEvaluation[] = [];
  private file: RunFile;
  private current: RunStatus;
  private session: RunSession | null;
  private busy = false;
  private interrupt: Interrupt | null = null;
  private wake: (() => void) | null = null;
  /** Resolves when the current run() (or idle stop) returns; null when idle. */
  private settled: Promise<void> | null = null;

  private constructor(
    private readonly storage: RunStorage,
    session: RunSession | null,
    file: RunFile,
    status: RunStatus,
    evaluations: readonly StoredEvaluation[],
    private readonly evaluate: Evaluate,
    private readonly concurrency: number,
  ) {
    this.session = session;
    this.file = file;
    this.id = file.id;
    this.config = file.config;
    this.current = status;
    this.algorithm = createAlgorithm(this.config);
    this.configHash = evalConfigHash(this.config.evaluation);
    this.adoptEvaluations(evaluations);
  }

  /** Creates a new run (status 'created'); call run() to start it. */
  static async create(config: SearchConfigInput, options: SearchRunOptions): Promise<SearchRun> {
    const parsed = parseSearchConfig(config);
    const evaluate = chooseEvaluate(parsed, options.evaluate);
    const file = newRunFile(options.runId ?? newRunId(), parsed);
    const session = await options.storage.create(file);
    return new SearchRun(
      options.storage,
      session,
      file,
      'created',
      [],
      evaluate,
      concurrencyOf(options),
    );
  }

  /** Opens a stored run to continue or stop it (nothing is locked or written until then). */
  static async open(runId: string, options: Omit<SearchRunOptions, 'runId'>): Promise<SearchRun> {
    const stored = await options.storage.read(runId);
    const evaluate = chooseEvaluate(stored.file.config, options.evaluate);
    return new SearchRun(
      options.storage,
      null,
      stored.file,
      stored.status,
      stored.evaluations,
      evaluate,
      concurrencyOf(options),
    );
  }

  status(): RunStatus {
    return this.current;
  }

  /** Why the run last paused, stopped or failed, when known. */
  message(): string | undefined {
    return this.file.message;
  }

  /** Generations finished so far. */
  generation(): number {
    return this.file.checkpoint.generation;
  }

  /** Evaluations stored so far. */
  evaluationCount(): number {
    return this.evaluations.length;
  }

  on(listener: SearchEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Pauses after (or abandoning) the evaluation in flight; run() resolves with status 'paused'. */
  pause(): void {
    this.requestInterrupt('pause');
  }

  /**
   * Stops the run (it can still be resumed later, like a paused one). A running search stops after
   * (or abandoning) the evaluation in flight and run() resolves with status 'stopped'; a paused,
   * interrupted or never-started run is marked 'stopped' at once. Resolves when 'stopped' is
   * stored. RunStatusError when the status machine does not allow it (completed, failed, already
   * stopped), RunLockedError when another process runs it.
   */
  stop(): Promise<void> {
    if (this.busy) {
      this.requestInterrupt('stop');
      return this.settled ?? Promise.resolve();
    }
    return this.exclusively(async () => {
      // Judge the status as stored now (another process may have run it meanwhile).
      await this.refresh();
      this.check('stop');
      await this.openSession();
      this.check('stop');
      await this.setStatus('stopped', { message: undefined });
    });
  }

  /** Releases the run (run() takes it again if called). */
  async close(): Promise<void> {
    if (this.busy) throw new Error(`run ${this.id} is running; pause or stop it first`);
    await this.closeSession();
  }

  /**
   * Runs (or resumes) until completed, paused or stopped. An error of the environment (a full disk,
   * a lost worker) pauses the run with the reason; run() then resolves with status 'paused'.
   * Rejects, with status 'failed' stored, on an error of the runner itself.
   */
  async run(): Promise<void> {
    if (this.busy) throw new Error(`run ${this.id} is already running`);
    await this.exclusively(async () => {
      if (this.session === null) await this.refresh();
      if (this.current === 'completed') return;
      // Run by another process as far as storage knows: taking the lock names the holder
      // (RunLockedError), or finds it gone (then the run was interrupted and continues here).
      if (this.current === 'running') await this.openSession();
      const allowed = () => {
        const finished = this.file.checkpoint.generation >= this.config.generations;
        if (!finished) this.check(this.current === 'created' ? 'start' : 'resume');
        return finished;
      };
      allowed(); // refused before the lock is taken
      await this.openSession();
      // Judged again on what is stored now that the lock is held (another process may have moved it).
      if ((this.current as RunStatus) === 'completed') return;
      if (allowed()) {
        // Killed after its last checkpoint but before 'completed' was stored: finish it now.
        await this.setStatus('completed', { message: undefined });
        return;
      }
      this.interrupt = null;
      try {
        await this.setStatus('running', { message: undefined });
        while (this.file.checkpoint.generation < this.config.generations) {
          if (!(await this.runGeneration())) break;
        }
        const done = this.file.checkpoint.generation >= this.config.generations;
        await this.setStatus(done ? 'completed' : this.interrupt === 'stop' ? 'stopped' : 'paused');
      } catch (err) {
        if (err instanceof EnvironmentError) {
          await this.setStatus('paused', { message: err.message }).catch(() => {
            // Storage itself is failing (a full disk): report it; the lock is released below, so
            // storage shows the run interrupted and it can be resumed.
            this.current = 'paused';
            this.emit({
              type: 'run-status',
              runId: this.id,
              status: 'paused',
              generation: this.generation(),
              message: err.message,
            });
          });
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        await this.setStatus('failed', { message }).catch(() => {});
        throw err;
      }
    });
  }

  /** Throws the status machine's refusal when the stored status does not allow `action`. */
  private check(action: RunAction): void {
    if (
      !canTransition(this.current, action) &&
      !(action === 'resume' && this.current === 'created')
    ) {
      const why =
        this.current === 'running'
          ? `run ${this.id} is being run by another process`
          : this.current === 'stopped' && action === 'stop'
            ? `run ${this.id} is already stopped`
            : refusal(this.id, this.current, action);
      throw new RunStatusError(this.id, this.current, why);
    }
  }

  /** Re-reads the run as stored (status, checkpoint, evaluations) while this object holds no lock. */
  private async refresh(): Promise<void> {
    if (this.session) return;
    const stored = await this.storage.read(this.id);
    this.file = stored.file;
    this.current = stored.status;
    this.adoptEvaluations(stored.evaluations);
  }

  private adoptEvaluations(evaluations: readonly StoredEvaluation[]): void {
    this.evaluations = [...evaluations];
    this.cache = new EvaluationCache();
    for (const r of evaluations) {
      this.cache.set(r.hash, this.configHash, outcomeOf(r), seedIndexOf(r));
    }
  }

  /** Takes the run's lock and adopts what storage holds then. */
  private async openSession(): Promise<RunSession> {
    if (this.session) return this.session;
    const session = await this.storage.open(this.id);
    this.session = session;
    this.file = session.file;
    // Holding the lock, a run stored as 'running' is one whose process is gone.
    this.current = session.file.status === 'running' ? 'interrupted' : session.file.status;
    this.adoptEvaluations(session.evaluations);
    return session;
  }

  private async closeSession(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.close();
  }

  /** Runs `work` with run() and stop() locked out, then releases the run. */
  private async exclusively(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    let settle: () => void = () => {};
    this.settled = new Promise<void>((resolve) => (settle = resolve));
    try {
      await work();
    } finally {
      this.busy = false;
      this.wake = null;
      await this.closeSession().catch(() => {});
      this.settled = null;
      settle();
    }
  }

  private requestInterrupt(kind: Interrupt): void {
    if (!this.busy) return;
    this.interrupt = kind;
    this.wake?.();
  }

  private emit(event: SearchEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's error must not break the search.
      }
    }
  }

  private async write(patch: RunFilePatch): Promise<void> {
    const session = this.session!;
    await session.update(patch);
    this.file = session.file;
  }

  private async setStatus(status: RunStatus, patch: RunFilePatch = {}): Promise<void> {
    // pid and host: the lock of run files from before run.lock, dropped at their first status change.
    await this.write({ ...patch, status, pid: undefined, host: undefined });
    this.current = status;
    this.emit({
      type: 'run-status',
      runId: this.id,
      status,
      generation: this.file.checkpoint.generation,
      ...(this.file.message !== undefined ? { message: this.file.message } : {}),
    });
  }

  /**
   * Runs the checkpointed generation to its end; false when interrupted. Up to `concurrency`
   * candidates are evaluated at once; results are stored in index order, and a genotype met earlier
   * in the run (or earlier in this generation) is served from the cache, so the stored run is the
   * same whatever the concurrency and the order in which evaluations finish.
   */
  private async runGeneration(): Promise<boolean> {
    const cp = this.file.checkpoint;
    const g = cp.generation;
    const rng = Rng.fromState(cp.rngState);
    const candidates = this.algorithm.ask(
      g === 0 ? undefined : populationMembers(this.config, cp, this.evaluations),
      rng,
    );
    // The generation's evaluations: each new candidate's first seeds, then one more seed of each
    // survivor that has fewer than maxSeeds (ascending by its place in the run).
    const { initialSeeds } = this.config.resampling;
    const jobs: Job[] = [];
    const firstJobOf: number[] = [];
    for (const genotype of candidates) {
      const hash = genotypeHash(genotype);
      firstJobOf.push(jobs.length);
      for (let s = 0; s < initialSeeds; s++) jobs.push({ genotype, hash, seedIndex: s });
    }
    jobs.push(...reevaluations(this.config, cp, this.evaluations));
    // Drawn in every mode, so that the RNG stream (and so every later generation's candidates) does
    // not depend on the seeds' mode; with common random numbers the k-th seed is the run's k-th.
    const drawn = jobs.map(() => rng.seed32());
    const seeds = this.config.resampling.commonSeeds
      ? jobs.map((j) => commonSeed(this.config.seed, j.seedIndex))
      : drawn;
    const nextRngState = rng.state();
    const start = cp.evaluationsAtStart;

    let open = 0; // jobs [0, open) are stored
    while (open < jobs.length && this.evaluations[start + open]) {
      const stored = this.evaluations[start + open]!;
      const job = jobs[open]!;
      if (
        stored.hash !== job.hash ||
        stored.generation !== g ||
        seedIndexOf(stored) !== job.seedIndex
      ) {
        throw new Error(
          `run ${this.id} cannot be resumed: evaluation ${start + open} on disk is not the candidate the checkpoint regenerates`,
        );
      }
      open += 1;
    }
    // Which jobs need an evaluation: the first of each (genotype, seed) the cache does not know.
    const firstOf = new Set<string>();
    const needed: number[] = [];
    for (let i = open; i < jobs.length; i++) {
      const { hash: h, seedIndex: s } = jobs[i]!;
      const key = `${h}|${s}`;
      if (this.cache.get(h, this.configHash, s) || firstOf.has(key)) continue;
      firstOf.add(key);
      needed.push(i);
    }
    const base = (i: number): RecordBase => ({
      index: start + i,
      generation: g,
      genotype: jobs[i]!.genotype,
      hash: jobs[i]!.hash,
      seed: seeds[i]!,
      seedIndex: jobs[i]!.seedIndex,
      startedAt: new Date().toISOString(),
    });
    const total = jobs.length;
    const abort = new AbortController();
    const interrupted = new Promise<null>((resolve) => {
      this.wake = () => {
        resolve(null);
        abort.abort(); // evaluators that can stop midway free their worker at once
      };
      if (this.interrupt) resolve(null);
    });
    const inFlight = new Map<number, Promise<Outcome>>();
    const live = new Set<number>();
    let launched = 0;
    try {
      for (let i = open; i < jobs.length; i++) {
        while (launched < needed.length && inFlight.size < this.concurrency && !this.interrupt) {
          const k = needed[launched++]!;
          inFlight.set(k, this.launch(base(k), { done: k, total }, live, abort.signal));
        }
        if (this.interrupt) return false;
        const hit = this.cache.get(jobs[i]!.hash, this.configHash, jobs[i]!.seedIndex);
        if (hit) {
          const b = base(i);
          this.emitStarted(b, { done: i, total });
          await this.store({ ...b, ...hit, cached: true, finishedAt: new Date().toISOString() });
          continue;
        }
        const outcome = await Promise.race([inFlight.get(i)!, interrupted]);
        inFlight.delete(i);
        // Abandoned: redone on resume, never stored half.
        if (outcome === null || this.interrupt) return false;
        await this.store(await this.recordOf(outcome));
        releaseStored(outcome);
      }
    } finally {
      live.clear(); // evaluations still in flight are abandoned: no more progress from them
      this.wake = null;
      if (inFlight.size > 0) abort.abort();
    }
    await this.finishGeneration(
      cp,
      firstJobOf.map((k) => start + k),
      nextRngState,
    );
    return true;
  }

  private emitStarted(b: RecordBase, inGeneration: { done: number; total: number }): void {
    this.emit({
      type: 'evaluation-started',
      runId: this.id,
      index: b.index,
      generation: b.generation,
      inGeneration,
      genotype: b.genotype,
      hash: b.hash,
    });
  }

  /** Starts evaluating one candidate; the promise never rejects (errors are part of the outcome). */
  private launch(
    b: RecordBase,
    inGeneration: { done: number; total: number },
    live: Set<number>,
    signal: AbortSignal,
  ): Promise<Outcome> {
    this.emitStarted(b, inGeneration);
    live.add(b.index);
    return this.evaluate(
      b.genotype,
      this.config.evaluation,
      b.seed!,
      (p) => {
        if (live.has(b.index)) {
          this.emit({ type: 'evaluation-progress', runId: this.id, index: b.index, ...p });
        }
      },
      { keepWeights: true, signal, job: { runId: this.id, index: b.index } },
    ).then(
      (result) => ({ base: b, result }),
      (error: unknown) => ({ base: b, error }),
    );
  }

  /** The record to store for a finished evaluation (its weights kept first). */
  private async recordOf(outcome: Outcome): Promise<StoredEvaluation> {
    if ('error' in outcome) return recordFromError(outcome.base, outcome.error);
    const { scores, weights } = outcome.result;
    if (weights) {
      try {
        await this.session!.putWeights(outcome.base.index, weights);
      } catch (err) {
        throw environmentError(err);
      }
    }
    return recordFromScores(outcome.base, this.config.objectives, scores);
  }

  private async store(record: StoredEvaluation): Promise<void> {
    try {
      await this.session!.append(record);
    } catch (err) {
      throw environmentError(err);
    }
    this.evaluations.push(record);
    this.cache.set(record.hash, this.configHash, outcomeOf(record), seedIndexOf(record));
    const { seed: _seed, ...shared } = record;
    this.emit({
      type: record.status === 'finished' ? 'evaluation-finished' : 'evaluation-failed',
      runId: this.id,
      evaluation: shared,
    });
  }

  /** Stores the generation's summary and the next checkpoint; keeps the front's weights only. */
  private async finishGeneration(
    cp: Checkpoint,
    candidates: readonly number[],
    nextRngState: Checkpoint['rngState'],
  ): Promise<void> {
    const { summary, checkpoint } = endOfGeneration(
      this.config,
      this.algorithm,
      cp,
      this.evaluations,
      candidates,
      nextRngState,
    );
    try {
      await this.write({
        checkpoint,
        generations: [
          ...this.file.generations.filter((s) => s.generation < cp.generation),
          summary,
        ],
      });
      await this.session!.pruneWeights(summary.front);
    } catch (err) {
      throw environmentError(err);
    }
    this.emit({ type: 'generation-finished', runId: this.id, ...summary });
  }
}

/** One evaluation of a generation: a genotype and which of its seeds. */
interface Job {
  readonly genotype: Genotype;
  readonly hash: string;
  readonly seedIndex: number;
}

type Outcome =
  | { readonly base: RecordBase; readonly result: EvaluationResult }
  | { readonly base: RecordBase; readonly error: unknown };

/** Tells the evaluator that `outcome` is stored (it may drop its own copy); never rejects. */
function releaseStored(outcome: Outcome): void {
  const release =
    'result' in outcome
      ? outcome.result.release
      : outcome.error instanceof EvaluationFailure
        ? outcome.error.release
        : undefined;
  void release?.().catch(() => {});
}

function outcomeOf(r: StoredEvaluation): CachedOutcome {
  return {
    status: r.status,
    ...(r.scores ? { scores: r.scores } : {}),
    ...(r.objectives ? { objectives: r.objectives } : {}),
    ...(r.failure !== undefined ? { failure: r.failure } : {}),
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
  };
}
