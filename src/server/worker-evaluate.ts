/**
 * The real evaluator in a worker thread (see evaluate-worker.ts): an {@link Evaluate} with the same
 * results as `evaluateGenotype` (same code, same backend choice), that leaves the server's event
 * loop free. A worker whose backend crashes (a wasm trap or abort), or that errors or exits, fails
 * the evaluations it had with a BackendAbortError (the environment's failure, not the candidate's:
 * not an EvaluationFailure, so the run stops instead of failing candidate after candidate), is
 * terminated, and is never reused: the next evaluation starts a fresh worker.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../core/errors.js';
import { BackendAbortError } from '../evaluator/backend-abort.js';
import {
  EvaluationFailure,
  type EvalProgress,
  type Evaluate,
  type EvaluationResult,
} from '../core/evaluation.js';
import type { EvaluateJob } from './evaluate-worker.js';

type WorkerMessage =
  | { type: 'progress'; id: number; progress: EvalProgress }
  | { type: 'done'; id: number; result: EvaluationResult }
  | { type: 'error'; id: number; name: string; message: string };

interface Pending {
  /** The worker running it. */
  readonly worker: Worker;
  resolve(result: EvaluationResult): void;
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

  /** Rejects the evaluations `w` was running or had queued (all of them when `w` is undefined). */
  const failAll = (w: Worker | undefined, err: () => Error) => {
    for (const [id, p] of pending) {
      if (w !== undefined && p.worker !== w) continue;
      pending.delete(id);
      p.reject(err());
    }
  };

  /** Never reuses `w` again: the next evaluation starts a fresh worker. */
  const retire = (w: Worker, err: () => Error) => {
    if (worker === w) worker = undefined;
    failAll(w, err);
    void w.terminate();
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
      if (![...pending.values()].some((q) => q.worker === w)) w.unref();
      if (m.type === 'done') p.resolve(m.result);
      else if (m.name === 'BackendAbortError') {
        const replaced = `${m.message}; its worker was replaced by a fresh one for the next evaluation`;
        p.reject(new BackendAbortError(replaced));
        retire(w, () => new BackendAbortError(replaced));
      } else if (m.name === 'EvaluationFailure') p.reject(new EvaluationFailure(m.message));
      else if (m.name === 'InputError') p.reject(new InputError(m.message));
      else p.reject(new Error(m.message));
    });
    w.on('error', (err) => {
      retire(
        w,
        () =>
          new BackendAbortError(
            `the evaluation worker failed: ${err.message}; it was replaced by a fresh one for the next evaluation`,
          ),
      );
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      failAll(
        w,
        () =>
          new BackendAbortError(
            `the evaluation worker exited with code ${code}; it was replaced by a fresh one for the next evaluation`,
          ),
      );
    });
    w.unref();
    return w;
  };

  const evaluate: Evaluate = (genotype, config, seed, onProgress, options) =>
    new Promise<EvaluationResult>((resolve, reject) => {
      const w = (worker ??= spawn());
      const id = nextId++;
      pending.set(id, { worker: w, resolve, reject, ...(onProgress ? { onProgress } : {}) });
      w.ref(); // keep the process alive while an evaluation is pending
      w.postMessage({ id, genotype, config, seed, options } satisfies EvaluateJob);
    });

  return {
    evaluate,
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
      failAll(undefined, () => new BackendAbortError('the evaluation worker was stopped'));
    },
  };
}
