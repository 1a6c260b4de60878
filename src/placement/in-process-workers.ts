/**
 * Evaluations in this process, one at a time, told as a worker report like a pool's: a
 * {@link RunTask} wrapped to remember what it evaluates, since when, its latest progress, and when
 * it was last heard from.
 */
import type { Evaluate } from '../core/evaluation.js';
import { genotypeTask, taskLabel, type RunTask } from '../core/evaluation-task.js';
import type { WorkersReport, WorkerTask } from '../core/workers.js';

export interface InProcessWorkers {
  readonly run: RunTask;
  readonly evaluate: Evaluate;
  report(description: string): WorkersReport;
}

export function inProcessWorkers(inner: RunTask): InProcessWorkers {
  const busy = new Map<number, WorkerTask>();
  let next = 0;
  let lastSeen = Date.now();
  let finished = 0;
  let backend: string | undefined;
  const run: RunTask = async (task, onProgress, options) => {
    const key = next++;
    busy.set(key, {
      ...(options?.job ? { runId: options.job.runId, index: options.job.index } : {}),
      hash: taskLabel(task),
      startedAt: new Date().toISOString(),
    });
    lastSeen = Date.now();
    try {
      const result = await inner(
        task,
        (p) => {
          lastSeen = Date.now();
          const shown = busy.get(key);
          if (shown) busy.set(key, { ...shown, progress: { ...p } });
          onProgress?.(p);
        },
        options,
      );
      finished += 1;
      backend = result.scores.backend;
      return result;
    } finally {
      busy.delete(key);
      lastSeen = Date.now();
    }
  };
  const evaluate: Evaluate = (genotype, config, seed, onProgress, options) =>
    run(genotypeTask(genotype, config, seed, options?.keepWeights ?? false), onProgress, options);
  return {
    run,
    evaluate,
    report: (description) => ({
      placement: 'in-process',
      description,
      workers: [
        {
          id: 'main',
          pid: process.pid,
          concurrency: 1,
          busy: [...busy.values()],
          lastSeen: new Date(lastSeen).toISOString(),
          finished,
          ...(backend ? { backend } : {}),
        },
      ],
      waiting: 0,
      active: busy.size,
      at: new Date().toISOString(),
    }),
  };
}
