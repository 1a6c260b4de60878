/**
 * The task of a local evaluation worker (a piscina worker thread): one real evaluation, with its
 * progress sent over the MessagePort it is given. Errors travel back as data (name and message),
 * because class identity does not survive the thread boundary. A backend that aborted (wasm's
 * `Aborted()`, a RuntimeError) leaves this thread unusable: it answers, then exits, and the pool
 * starts a fresh thread for the next evaluation.
 */
import type { MessagePort } from 'node:worker_threads';
import type { EvalConfig, EvaluationResult } from '../core/evaluation.js';
import type { Genotype } from '../core/genotype.js';
import { isBackendAbort } from './backend-abort.js';
import { evaluateGenotype } from './evaluate.js';

export interface EvaluationTask {
  readonly genotype: Genotype;
  readonly config: EvalConfig;
  readonly seed: number;
  readonly keepWeights: boolean;
  readonly progress: MessagePort;
}

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
    const result = await evaluateGenotype(
      task.genotype,
      task.config,
      task.seed,
      (p) => task.progress.postMessage(p),
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
