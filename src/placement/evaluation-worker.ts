/**
 * The task of a local evaluation worker (a piscina worker thread): one real evaluation, with its
 * progress sent over the MessagePort it is given (first a message naming this thread, so the pool
 * knows which thread runs which evaluation). Errors travel back as data (name and message),
 * because class identity does not survive the thread boundary. A backend that aborted (wasm's
 * `Aborted()`, a RuntimeError) leaves this thread unusable: it answers, then exits, and the pool
 * starts a fresh thread for the next evaluation.
 *
 * `warmUp` (a second task of this module) loads the backend, so that a pool started ahead of its
 * first evaluation does not pay for it then.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import type { EvalConfig, EvalProgress, EvaluationResult } from '../core/evaluation.js';
import type { Genotype } from '../core/genotype.js';
import { isBackendAbort } from '../evaluator/backend-abort.js';
import { currentBackend, initBackend } from '../evaluator/backend.js';
import { evaluateGenotype } from '../evaluator/evaluate.js';

export interface EvaluationTask {
  readonly genotype: Genotype;
  readonly config: EvalConfig;
  readonly seed: number;
  readonly keepWeights: boolean;
  readonly progress: MessagePort;
}

/** What a worker sends over its progress port: its thread id (first), then progress. */
export type WorkerMessage = { readonly thread: number } | EvalProgress;

export type EvaluationTaskResult =
  | { readonly ok: true; readonly result: EvaluationResult }
  | {
      readonly ok: false;
      readonly name: string;
      readonly message: string;
      readonly code?: string;
      readonly fatal: boolean;
    };

export default async function evaluateTask(task: EvaluationTask): Promise<EvaluationTaskResult> {
  try {
    task.progress.postMessage({ thread: threadId } satisfies WorkerMessage);
    const result = await evaluateGenotype(
      task.genotype,
      task.config,
      task.seed,
      (p) => task.progress.postMessage(p satisfies WorkerMessage),
      { keepWeights: task.keepWeights },
    );
    return { ok: true, result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const fatal = isBackendAbort(e);
    // Leave once the answer is sent: the pool replaces this thread.
    if (fatal) setTimeout(() => process.exit(1), 50).unref();
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, name: e.name, message: e.message, ...(code ? { code } : {}), fatal };
  } finally {
    task.progress.close();
  }
}

/** Loads this thread's backend; answers the thread id and the backend's name. */
export async function warmUp(): Promise<{ thread: number; backend: string }> {
  const backend = currentBackend() ?? (await initBackend());
  return { thread: threadId, backend: backend.name };
}
