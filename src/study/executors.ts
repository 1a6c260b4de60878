/**
 * Where a study's evaluations run: in this process one at a time, or in a local pool of worker
 * threads (one evaluation per thread, `--workers N`), or, for the DARTS cell networks, on the
 * evaluation queue (`--queue URL`: the queue's jobs carry genotypes only, so baselines and
 * ensembles then run in this process). All give the same scores for the same job.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { InputError } from '../core/errors.js';
import type { RedisTarget } from '../core/redis-url.js';
import {
  EvaluationFailure,
  type EvalProgress,
  type Evaluate,
  type EvaluationResult,
} from '../core/evaluation.js';
import { initBackend, describeBackend } from '../evaluator/backend.js';
import { openEvaluator, type RunEvaluator } from '../placement/placement.js';
import { runStudyTask, type StudyTask } from './study-task.js';
import type { StudyWorkerResult, StudyWorkerTask } from './study-worker.js';

export interface StudyExecutor {
  /** How many evaluations to keep in flight. */
  readonly concurrency: number;
  readonly description: string;
  run(
    task: StudyTask,
    job: { readonly id: string; readonly index: number },
    onProgress?: (p: EvalProgress) => void,
  ): Promise<EvaluationResult>;
  close(): Promise<void>;
}

/** This process, one evaluation at a time. */
export async function inProcessExecutor(announce?: (line: string) => void): Promise<StudyExecutor> {
  const info = await initBackend();
  announce?.(describeBackend(info));
  return {
    concurrency: 1,
    description: 'evaluations run in this process, one at a time',
    run: (task, _job, onProgress) => runStudyTask(task, onProgress),
    close: async () => {},
  };
}

/** The compiled worker module: next to this file in dist/, or dist's copy when run from sources. */
export function studyWorkerFile(): string | undefined {
  for (const url of [
    new URL('./study-worker.js', import.meta.url),
    new URL('../../dist/study/study-worker.js', import.meta.url),
  ]) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function errorFrom(r: Extract<StudyWorkerResult, { ok: false }>): Error {
  if (r.name === 'EvaluationFailure') return new EvaluationFailure(r.message);
  if (r.name === 'InputError') return new InputError(r.message);
  const e = new Error(r.message);
  e.name = r.name;
  return e;
}

/** A pool of `size` worker threads, one evaluation each. */
export function poolExecutor(size = availableParallelism()): StudyExecutor {
  if (!Number.isInteger(size) || size < 1) {
    throw new InputError(`--workers must be a positive integer, got ${size}`);
  }
  const filename = studyWorkerFile();
  if (!filename) throw new Error('the study worker is not built: run npm run build');
  const makePool = () =>
    new Piscina({ filename, minThreads: 0, maxThreads: size, concurrentTasksPerWorker: 1 });
  let pool = makePool();
  const retiring: Promise<void>[] = [];
  return {
    concurrency: size,
    description: `evaluations run in ${size} worker thread${size === 1 ? '' : 's'}`,
    async run(task, _job, onProgress) {
      const { port1, port2 } = new MessageChannel();
      if (onProgress) port1.on('message', (p: EvalProgress) => onProgress(p));
      const message: StudyWorkerTask = { ...task, progress: port2 };
      let answer: StudyWorkerResult;
      try {
        answer = (await pool.run(message, { transferList: [port2] })) as StudyWorkerResult;
      } finally {
        port1.close();
      }
      if (!answer.ok) {
        if (answer.fatal) {
          // A thread whose backend crashed takes no further task: new tasks go to a fresh pool.
          retiring.push(pool.close().catch(() => {}));
          pool = makePool();
        }
        throw errorFrom(answer);
      }
      return answer.result;
    },
    async close() {
      await Promise.all([pool.destroy(), ...retiring]);
    },
  };
}

/**
 * The queue for DARTS cell networks (NAS cells, random genotypes), this process for the rest. Queue
 * jobs are keyed `<studyKey>.<index>` (the study's plan index), so a resumed study finds the results
 * computed while it was down.
 */
export async function queueExecutor(
  url: string | RedisTarget,
  studyKey: string,
  announce?: (line: string) => void,
): Promise<StudyExecutor> {
  const queue: RunEvaluator = await openEvaluator({ queue: url }, { report: announce });
  const local = await inProcessExecutor(announce);
  const evaluate: Evaluate = queue.evaluate;
  // Evaluations in this process run one after another.
  let line: Promise<unknown> = Promise.resolve();
  const runLocal: StudyExecutor['run'] = (task, job, onProgress) => {
    const turn = line.then(() => local.run(task, job, onProgress));
    line = turn.catch(() => {});
    return turn;
  };
  return {
    concurrency: 64,
    description: `${queue.description}; baselines and ensembles run in this process`,
    run(task, job, onProgress) {
      const only = task.members.length === 1 ? task.members[0] : undefined;
      if (only && 'genotype' in only && !task.weightFiles) {
        return evaluate(only.genotype, task.config, task.seed, onProgress, {
          keepWeights: task.keepWeights,
          job: { runId: studyKey, index: job.index },
        });
      }
      return runLocal(task, job, onProgress);
    },
    async close() {
      await queue.close();
    },
  };
}
