/**
 * One search run: NSGA-II (or random search) over genotypes, persisted to its run folder after every
 * evaluation, resumable exactly.
 *
 * Exact resume: at every generation boundary the run checkpoints the RNG state, the population (with
 * the ranks and crowding distances the tournament uses) and the number of evaluations stored. The
 * candidates of a generation, and their evaluation seeds, are a pure function of that checkpoint, so a
 * resumed run regenerates the same candidates, skips those whose evaluations are already in the journal
 * and evaluates the rest: it ends with exactly the evaluations, populations and fronts of an
 * uninterrupted run with the same seed.
 */
import { randomBytes } from 'node:crypto';
import { InputError } from '../core/errors.js';
import { RunStatusError } from '../store/errors.js';
import { RunWriter } from '../store/run-writer.js';
import { pruneWeights, weightsFile } from '../store/run-weights.js';
import {
  RUN_FORMAT,
  RUN_FORMAT_VERSION,
  type Checkpoint,
  type RunFile,
  type StoredEvaluation,
} from '../store/run-format.js';
import { effectiveStatus } from '../store/run-store.js';
import type { EvolutionEngine, Evaluated, Member } from '../search/algorithm.js';
import { genotypeHash } from '../core/canonical.js';
import { EvaluationCache, evalConfigHash, type CachedOutcome } from './evaluation-cache.js';
import { EvaluationFailure, type Evaluate } from '../core/evaluation.js';
import type {
  EvaluationRecord,
  GenerationSummary,
  RunStatus,
  SearchEvent,
  SearchEventListener,
} from '../core/events.js';
import type { Genotype } from '../core/genotype.js';
import { createNsga2Engine } from '../search/genotype-operators.js';
import { hypervolume } from '../core/hypervolume.js';
import { nonDominatedSort } from '../core/non-dominated-sort.js';
import {
  objectiveDirections,
  objectiveValues,
  referencePoint,
  toMinimisation,
} from '../core/objectives.js';
import { createRandomSearchEngine } from '../search/random-search.js';
import { Rng } from '../core/rng.js';
import {
  parseSearchConfig,
  type SearchConfig,
  type SearchConfigInput,
} from '../core/search-config.js';
import { createSurrogateEvaluate } from '../evaluator/surrogate.js';

export interface SearchRunOptions {
  readonly runsDir: string;
  /** The evaluator. Optional for surrogate runs (the built-in surrogate is always used for them). */
  readonly evaluate?: Evaluate;
  readonly runId?: string;
}

/** A fresh run id: UTC date and time plus 6 random hex digits (not from the search's RNG). */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function chooseEvaluate(config: SearchConfig, evaluate: Evaluate | undefined): Evaluate {
  if (config.evaluator === 'surrogate') {
    return createSurrogateEvaluate({ delayMs: config.surrogateDelayMs });
  }
  if (!evaluate) {
    throw new InputError("this run uses the 'real' evaluator, but none was given");
  }
  return evaluate;
}

function createEngine(config: SearchConfig): EvolutionEngine<Genotype> {
  return config.strategy === 'random'
    ? createRandomSearchEngine(config)
    : createNsga2Engine(config);
}

type Interrupt = 'paused' | 'stopped';

/** Statuses in which a run that is not executing can be marked 'stopped'. */
const STOPPABLE_WHEN_IDLE: readonly RunStatus[] = ['created', 'paused', 'interrupted'];

export class SearchRun {
  readonly id: string;
  readonly config: SearchConfig;
  private readonly engine: EvolutionEngine<Genotype>;
  private readonly listeners = new Set<SearchEventListener>();
  private readonly cache = new EvaluationCache();
  private readonly configHash: string;
  private current: RunStatus;
  private writer: RunWriter | null;
  private file: RunFile;
  private running = false;
  private interrupt: Interrupt | null = null;
  private wake: (() => void) | null = null;
  /** Resolves when the current run() (or idle stop) returns; null when idle. */
  private settled: Promise<void> | null = null;

  private constructor(
    private readonly runsDir: string,
    writer: RunWriter,
    private readonly evaluations: StoredEvaluation[],
    private readonly evaluate: Evaluate,
  ) {
    this.writer = writer;
    this.file = writer.data;
    this.id = this.file.id;
    this.config = this.file.config;
    this.engine = createEngine(this.config);
    this.configHash = evalConfigHash(this.config.evaluation);
    for (const r of evaluations) this.cache.set(r.hash, this.configHash, outcomeOf(r));
    this.current = effectiveStatus(this.file);
  }

  /** Creates a new run folder (status 'created'); call run() to start it. */
  static async create(config: SearchConfigInput, options: SearchRunOptions): Promise<SearchRun> {
    const parsed = parseSearchConfig(config);
    const evaluate = chooseEvaluate(parsed, options.evaluate);
    const now = new Date().toISOString();
    const file: RunFile = {
      format: RUN_FORMAT,
      formatVersion: RUN_FORMAT_VERSION,
      id: options.runId ?? newRunId(),
      createdAt: now,
      updatedAt: now,
      status: 'created',
      config: parsed,
      checkpoint: {
        generation: 0,
        rngState: Rng.fromSeed(parsed.seed).state(),
        evaluationsAtStart: 0,
        population: [],
      },
      generations: [],
    };
    const writer = await RunWriter.create(options.runsDir, file);
    return new SearchRun(options.runsDir, writer, [], evaluate);
  }

  /** Opens a run on disk to resume it (any status; a completed run's run() returns at once). */
  static async open(runId: string, options: Omit<SearchRunOptions, 'runId'>): Promise<SearchRun> {
    const { writer, contents } = await RunWriter.open(options.runsDir, runId);
    try {
      const evaluate = chooseEvaluate(contents.file.config, options.evaluate);
      return new SearchRun(options.runsDir, writer, contents.evaluations, evaluate);
    } catch (err) {
      await writer.close();
      throw err;
    }
  }

  status(): RunStatus {
    return this.current;
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
    this.requestInterrupt('paused');
  }

  /**
   * Stops the run for good (it can still be resumed later, like a paused one). A running search stops
   * after (or abandoning) the evaluation in flight and run() resolves with status 'stopped'; a paused,
   * interrupted or never-started run is marked 'stopped' on disk at once. Resolves when the status
   * 'stopped' is stored. RunStatusError when the run is completed, failed, already stopped or being
   * run by another process.
   */
  stop(): Promise<void> {
    if (this.running) {
      this.requestInterrupt('stopped');
      return this.settled ?? Promise.resolve();
    }
    if (!STOPPABLE_WHEN_IDLE.includes(this.current)) {
      const why =
        this.current === 'running'
          ? 'being run by another process'
          : this.current === 'stopped'
            ? 'already stopped'
            : this.current;
      return Promise.reject(
        new RunStatusError(
          this.id,
          this.current,
          `run ${this.id} is ${why}: only a running, paused, interrupted or new run can be stopped`,
        ),
      );
    }
    return this.exclusively(async () => {
      await this.openWriter();
      await this.setStatus('stopped', { pid: undefined, host: undefined });
    });
  }

  /** Releases the run folder (run() reopens it if called again). */
  async close(): Promise<void> {
    if (this.running) throw new Error(`run ${this.id} is running; pause or stop it first`);
    await this.writer?.close();
    this.writer = null;
  }

  /**
   * Runs (or resumes) until completed, paused or stopped. Rejects, with status 'failed' stored, when
   * the evaluator throws anything but an EvaluationFailure.
   */
  async run(): Promise<void> {
    if (this.running) throw new Error(`run ${this.id} is already running`);
    if (
      this.current === 'completed' ||
      this.file.checkpoint.generation >= this.config.generations
    ) {
      await this.close();
      return;
    }
    this.running = true;
    this.interrupt = null;
    let settle: () => void = () => {};
    this.settled = new Promise<void>((resolve) => (settle = resolve));
    try {
      const writer = await this.openWriter();
      await this.setStatus('running', { ...writer.lockFields(), message: undefined });
      while (this.file.checkpoint.generation < this.config.generations) {
        if (!(await this.runGeneration())) break;
      }
      const finished = this.file.checkpoint.generation >= this.config.generations;
      await this.setStatus(finished ? 'completed' : (this.interrupt ?? 'paused'), {
        pid: undefined,
        host: undefined,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.writer) {
        await this.setStatus('failed', { pid: undefined, host: undefined, message }).catch(
          () => {},
        );
      } else {
        this.current = 'failed';
      }
      throw err;
    } finally {
      this.running = false;
      this.wake = null;
      await this.writer?.close();
      this.writer = null;
      this.settled = null;
      settle();
    }
  }

  /** The open run folder, reopened (and checked against what this object holds) after close(). */
  private async openWriter(): Promise<RunWriter> {
    if (this.writer) return this.writer;
    const { writer, contents } = await RunWriter.open(this.runsDir, this.id);
    if (contents.evaluations.length !== this.evaluations.length) {
      await writer.close();
      throw new Error(`run ${this.id} was changed on disk by another process`);
    }
    this.writer = writer;
    return writer;
  }

  /** Runs `work` with the run folder open and run() locked out, then releases the folder. */
  private async exclusively(work: () => Promise<void>): Promise<void> {
    this.running = true;
    let settle: () => void = () => {};
    this.settled = new Promise<void>((resolve) => (settle = resolve));
    try {
      await work();
    } finally {
      this.running = false;
      await this.writer?.close();
      this.writer = null;
      this.settled = null;
      settle();
    }
  }

  private requestInterrupt(kind: Interrupt): void {
    if (!this.running) return;
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

  private async setStatus(status: RunStatus, patch: Partial<RunFile> = {}): Promise<void> {
    this.current = status;
    await this.writer!.update({ ...patch, status });
    this.file = this.writer!.data;
    this.emit({
      type: 'run-status',
      runId: this.id,
      status,
      generation: this.file.checkpoint.generation,
      ...(patch.message ? { message: patch.message } : {}),
    });
  }

  /** The members of the checkpointed population, with their ranks and crowding distances. */
  private populationMembers(cp: Checkpoint): Member<Genotype>[] {
    return cp.population.map((index, k) => {
      const r = this.evaluations[index]!;
      return {
        x: r.genotype,
        f: toMinimisation(this.config.objectives, r.objectives ?? []),
        rank: cp.rank?.[k] ?? 0,
        crowding: cp.crowding?.[k] ?? Infinity,
      };
    });
  }

  /** Runs the checkpointed generation to its end; false when interrupted. */
  private async runGeneration(): Promise<boolean> {
    const cp = this.file.checkpoint;
    const g = cp.generation;
    const rng = Rng.fromState(cp.rngState);
    const parents = this.populationMembers(cp);
    const candidates =
      g === 0 ? this.engine.initialPopulation(rng) : this.engine.offspring(parents, rng);
    const seeds = candidates.map(() => rng.seed32());
    const nextRngState = rng.state();
    const base = cp.evaluationsAtStart;

    for (let i = 0; i < candidates.length; i++) {
      const index = base + i;
      const genotype = candidates[i]!;
      const hash = genotypeHash(genotype);
      const stored = this.evaluations[index];
      if (stored) {
        if (stored.hash !== hash || stored.generation !== g) {
          throw new Error(
            `run ${this.id} cannot be resumed: evaluation ${index} on disk is not the candidate the checkpoint regenerates`,
          );
        }
        continue;
      }
      if (this.interrupt) return false;
      const record = await this.evaluateCandidate(index, g, genotype, hash, seeds[i]!, {
        done: i,
        total: candidates.length,
      });
      if (!record) return false; // abandoned: redone on resume, never stored half
      await this.writer!.appendEvaluation(record);
      this.evaluations.push(record);
      this.cache.set(hash, this.configHash, outcomeOf(record));
      const { seed: _seed, ...shared } = record;
      this.emit({
        type: record.status === 'finished' ? 'evaluation-finished' : 'evaluation-failed',
        runId: this.id,
        evaluation: shared,
      });
    }

    // Survival among the parents and all candidates of this generation.
    const pool = [...cp.population, ...candidates.map((_, i) => base + i)];
    const evaluated: Evaluated<Genotype>[] = pool.map((index) => {
      const r = this.evaluations[index]!;
      return {
        x: r.genotype,
        f: r.objectives ? toMinimisation(this.config.objectives, r.objectives) : null,
      };
    });
    const survival = this.engine.survive(evaluated);
    const population = survival.indices.map((k) => pool[k]!);
    const reference =
      cp.reference ??
      referencePoint(
        this.config.objectives,
        this.evaluations.flatMap((r) => (r.objectives ? [r.objectives] : [])),
      );
    const front = this.paretoFront();
    const hv = hypervolume(
      front.map((i) => this.evaluations[i]!.objectives!),
      reference,
      objectiveDirections(this.config.objectives),
    );
    const summary: GenerationSummary = {
      generation: g,
      population,
      front,
      hypervolume: hv,
      evaluations: this.evaluations.length,
    };
    const next: Checkpoint = {
      generation: g + 1,
      rngState: nextRngState,
      evaluationsAtStart: this.evaluations.length,
      population,
      rank: survival.members.map((m) => m.rank),
      crowding: survival.members.map((m) => (Number.isFinite(m.crowding) ? m.crowding : null)),
      reference,
    };
    await this.writer!.update({
      checkpoint: next,
      generations: [...this.file.generations.filter((s) => s.generation < g), summary],
    });
    this.file = this.writer!.data;
    await pruneWeights(this.writer!.dir, front);
    this.emit({ type: 'generation-finished', runId: this.id, ...summary });
    return true;
  }

  /** Indices of the non-dominated evaluations so far (first copy of each genotype), ascending. */
  private paretoFront(): number[] {
    const seen = new Set<string>();
    const ok: number[] = [];
    for (const r of this.evaluations) {
      if (r.status !== 'finished' || !r.objectives || seen.has(r.hash)) continue;
      seen.add(r.hash);
      ok.push(r.index);
    }
    if (ok.length === 0) return [];
    const fronts = nonDominatedSort(
      ok.map((i) => this.evaluations[i]!.objectives!),
      objectiveDirections(this.config.objectives),
    );
    return fronts[0]!.map((k) => ok[k]!);
  }

  /** Evaluates one candidate (or serves it from the cache); null when abandoned by pause/stop. */
  private async evaluateCandidate(
    index: number,
    generation: number,
    genotype: Genotype,
    hash: string,
    seed: number,
    inGeneration: { done: number; total: number },
  ): Promise<StoredEvaluation | null> {
    const startedAt = new Date().toISOString();
    this.emit({
      type: 'evaluation-started',
      runId: this.id,
      index,
      generation,
      inGeneration,
      genotype,
      hash,
    });
    const base = { index, generation, genotype, hash, seed, startedAt };
    const hit = this.cache.get(hash, this.configHash);
    if (hit) {
      return { ...base, ...hit, cached: true, finishedAt: new Date().toISOString() };
    }
    if (this.interrupt) return null;
    let live = true;
    const interrupted = new Promise<null>((resolve) => {
      this.wake = () => resolve(null);
      if (this.interrupt) resolve(null);
    });
    const work = this.evaluate(
      genotype,
      this.config.evaluation,
      seed,
      (p) => {
        if (live) this.emit({ type: 'evaluation-progress', runId: this.id, index, ...p });
      },
      { saveWeightsTo: weightsFile(this.writer!.dir, index) },
    ).then(
      (scores) => ({ scores }),
      (error: unknown) => ({ error }),
    );
    const outcome = await Promise.race([work, interrupted]);
    live = false;
    this.wake = null;
    if (outcome === null) return null;
    const finishedAt = new Date().toISOString();
    if ('error' in outcome) {
      if (!(outcome.error instanceof EvaluationFailure)) throw outcome.error;
      return {
        ...base,
        status: 'failed',
        failure: outcome.error.message,
        cached: false,
        finishedAt,
      };
    }
    let objectives: number[];
    try {
      objectives = objectiveValues(this.config.objectives, outcome.scores);
    } catch (err) {
      const failure = err instanceof Error ? err.message : String(err);
      return {
        ...base,
        status: 'failed',
        scores: outcome.scores,
        failure,
        cached: false,
        finishedAt,
      };
    }
    if (objectives.some((v) => !Number.isFinite(v))) {
      return {
        ...base,
        status: 'failed',
        scores: outcome.scores,
        failure: `non-finite objective values ${JSON.stringify(objectives)}`,
        cached: false,
        finishedAt,
      };
    }
    return {
      ...base,
      status: 'finished',
      scores: outcome.scores,
      objectives,
      cached: false,
      finishedAt,
    };
  }
}

function outcomeOf(r: EvaluationRecord): CachedOutcome {
  return {
    status: r.status,
    ...(r.scores ? { scores: r.scores } : {}),
    ...(r.objectives ? { objectives: r.objectives } : {}),
    ...(r.failure !== undefined ? { failure: r.failure } : {}),
  };
}
