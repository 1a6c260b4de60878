/**
 * The runs folder as a read-only catalogue: every run on disk with its status (a 'running' run whose
 * process is gone is reported 'interrupted'), and one run in full. Never writes anything.
 */
import { readdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ObjectiveSpec } from '../core/objectives.js';
import type { EvaluationRecord, GenerationSummary, RunStatus } from '../core/events.js';
import { plannedEvaluations, type SearchConfig } from '../core/search-config.js';
import { RUN_ID_PATTERN, RunNotFoundError, checkRunId } from './errors.js';
import { RUN_FILE, type RunFile } from './run-format.js';
import { readRunDir } from './run-reader.js';

export interface RunSummary {
  readonly id: string;
  readonly name?: string;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Generations finished (the initial population is generation 0). */
  readonly generation: number;
  /** Generations planned. */
  readonly generations: number;
  /** Evaluations stored. */
  readonly evaluations: number;
  readonly plannedEvaluations: number;
  readonly objectives: ObjectiveSpec[];
  readonly strategy: SearchConfig['strategy'];
  readonly evaluator: SearchConfig['evaluator'];
  readonly message?: string;
  /** Set when the run cannot be read (corrupt, newer format): the run is listed but left untouched. */
  readonly error?: string;
}

export interface RunData extends Omit<RunSummary, 'evaluations' | 'generations'> {
  readonly config: SearchConfig;
  /** Evaluations stored (their number is `evaluations.length`). */
  readonly evaluations: EvaluationRecord[];
  /** The summary of every finished generation (their number is `generation`). */
  readonly generations: GenerationSummary[];
  readonly generationsPlanned: number;
  /** Hypervolume reference point of the run (set once generation 0 is done). */
  readonly reference?: readonly number[];
}

/** True when a process with that pid exists on this machine. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The status to report: 'running' becomes 'interrupted' when its process is gone. */
export function effectiveStatus(file: RunFile): RunStatus {
  if (file.status !== 'running') return file.status;
  if (file.host !== undefined && file.host !== hostname()) return 'running';
  return file.pid !== undefined && processAlive(file.pid) ? 'running' : 'interrupted';
}

export function summarise(file: RunFile, evaluations: number): RunSummary {
  return {
    id: file.id,
    ...(file.config.name !== undefined ? { name: file.config.name } : {}),
    status: effectiveStatus(file),
    createdAt: file.createdAt,
    updatedAt: file.updatedAt,
    generation: file.checkpoint.generation,
    generations: file.config.generations,
    evaluations,
    plannedEvaluations: plannedEvaluations(file.config),
    objectives: file.config.objectives,
    strategy: file.config.strategy,
    evaluator: file.config.evaluator,
    ...(file.message !== undefined ? { message: file.message } : {}),
  };
}

export class RunStore {
  constructor(readonly runsDir: string) {}

  /** Folder of a run (after checking the id). */
  runDir(runId: string): string {
    return join(this.runsDir, checkRunId(runId));
  }

  /** Every run on disk, newest first; unreadable ones carry `error`. */
  async list(): Promise<RunSummary[]> {
    let names: string[];
    try {
      names = await readdir(this.runsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: RunSummary[] = [];
    for (const name of names.sort()) {
      if (!RUN_ID_PATTERN.test(name)) continue;
      const dir = join(this.runsDir, name);
      try {
        if (!(await stat(join(dir, RUN_FILE))).isFile()) continue;
      } catch {
        continue;
      }
      try {
        const { file, evaluations } = await readRunDir(dir, name);
        out.push(summarise(file, evaluations.length));
      } catch (err) {
        const s = await stat(join(dir, RUN_FILE));
        out.push({
          id: name,
          status: 'failed',
          createdAt: s.birthtime.toISOString(),
          updatedAt: s.mtime.toISOString(),
          generation: 0,
          generations: 0,
          evaluations: 0,
          plannedEvaluations: 0,
          objectives: [],
          strategy: 'nsga2',
          evaluator: 'real',
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  /** One run in full. InputError for an invalid id, RunNotFoundError for an unknown one. */
  async read(runId: string): Promise<RunData> {
    const dir = this.runDir(runId);
    try {
      await stat(dir);
    } catch {
      throw new RunNotFoundError(runId);
    }
    const { file, evaluations } = await readRunDir(dir, runId);
    const summary = summarise(file, evaluations.length);
    return {
      ...summary,
      config: file.config,
      evaluations,
      generations: [...file.generations],
      generationsPlanned: file.config.generations,
      ...(file.checkpoint.reference ? { reference: file.checkpoint.reference } : {}),
    };
  }
}
