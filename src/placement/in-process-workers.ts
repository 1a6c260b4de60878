/**
 * Evaluations in this process, one at a time, told as a worker report like a pool's: an
 * {@link Evaluate} wrapped to remember what it evaluates, since when, its latest progress, and when
 * it was last heard from.
 */
import { genotypeHash } from '../core/canonical.js';
import type { Evaluate } from '../core/evaluation.js';
import type { WorkersReport, WorkerTask } from '../core/workers.js';

export interface InProcessWorkers {
  readonly evaluate: Evaluate;
  report(description: string): WorkersReport;
}

export function inProcessWorkers(inner: Evaluate): InProcessWorkers {
  const busy = new Map<number, WorkerTask>();
  let next = 0;
  let lastSeen = Date.now();
  let finished = 0;
  let backend: string | undefined;
  const evaluate: Evaluate = async (genotype, config, seed, onProgress, options) => {
    const key = next++;
    busy.set(key, {
      ...(options?.job ? { runId: options.job.runId, index: options.job.index } : {}),
      hash: genotypeHash(genotype),
      startedAt: new Date().toISOString(),
    });
    lastSeen = Date.now();
    try {
      const result = await inner(
        genotype,
        config,
        seed,
        (p) => {
          lastSeen = Date.now();
          const task = busy.get(key);
          if (task) busy.set(key, { ...task, progress: { ...p } });
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
  return {
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
