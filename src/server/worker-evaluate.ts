/**
 * The real evaluator in a worker thread (see evaluate-worker.ts): an {@link Evaluate} with the same
 * results as `evaluateGenotype` (same code, same backend choice), that leaves the server's event
 * loop free. A worker that dies fails the evaluation in flight (EvaluationFailure: the search goes
 * on) and is replaced for the next one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.js';
import {
  EvaluationFailure,
  type EvalProgress,
  type Evaluate,
  type Scores,
} from '../core/evaluation.js';
import type { EvaluateJob } from './evaluate-worker.js';

type WorkerMessage =
  | { type: 'progress'; id: number; progress: EvalProgress }
  | { type: 'done'; id: number; scores: Scores }
  | { type: 'error'; id: number; name: string; message: string };

interface Pending {
  resolve(scores: Scores): void;
  reject(err: Error): void;
  onProgress?: (p: EvalProgress) => void;
}

/** The compiled worker script next to this module, or undefined (e.g. running from TypeScript sources). */
export function workerScript(): string | undefined {
  const path = fileURLToPath(new URL('./evaluate-worker.js', import.meta.url));
  return existsSync(path) ? path : undefined;
}

export interface WorkerEvaluator {
  readonly evaluate: Evaluate;
  /** Stops the worker (evaluations in flight fail). */
  close(): Promise<void>;
}

export function createWorkerEvaluator(script: string): WorkerEvaluator {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  const failAll = (reason: string) => {
    for (const p of pending.values()) p.reject(new EvaluationFailure(reason));
    pending.clear();
  };

  const spawn = (): Worker => {
    const w = new Worker(script);
    w.on('message', (m: WorkerMessage) => {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.progress);
        return;
      }
      pending.delete(m.id);
      if (pending.size === 0) w.unref();
      if (m.type === 'done') p.resolve(m.scores);
      else if (m.name === 'EvaluationFailure') p.reject(new EvaluationFailure(m.message));
      else if (m.name === 'InputError') p.reject(new InputError(m.message));
      else p.reject(new Error(m.message));
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(`the evaluation worker failed: ${err.message}`);
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (pending.size > 0) failAll(`the evaluation worker exited with code ${code}`);
    });
    w.unref();
    return w;
  };

  const evaluate: Evaluate = (genotype, config, seed, onProgress, options) =>
    new Promise<Scores>((resolve, reject) => {
      worker ??= spawn();
      const id = nextId++;
      pending.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      worker.ref(); // keep the process alive while an evaluation is pending
      worker.postMessage({ id, genotype, config, seed, options } satisfies EvaluateJob);
    });

  return {
    evaluate,
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
      failAll('the evaluation worker was stopped');
    },
  };
}
