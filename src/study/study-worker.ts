/**
 * The task of a study's worker thread (piscina): one study evaluation, progress over the port it is
 * given, errors sent back as data (class identity does not cross threads). A thread whose backend
 * aborted answers and exits; the pool starts a fresh one.
 */
import type { MessagePort } from 'node:worker_threads';
import type { EvaluationResult } from '../core/evaluation.js';
import { isBackendAbort } from '../evaluator/backend-abort.js';
import { runStudyTask, type StudyTask } from './study-task.js';

export interface StudyWorkerTask extends StudyTask {
  readonly progress: MessagePort;
}

export type StudyWorkerResult =
  | { readonly ok: true; readonly result: EvaluationResult }
  | {
      readonly ok: false;
      readonly name: string;
      readonly message: string;
      readonly fatal: boolean;
    };

export default async function studyWorkerTask(task: StudyWorkerTask): Promise<StudyWorkerResult> {
  try {
    const { progress, ...rest } = task;
    const result = await runStudyTask(rest, (p) => progress.postMessage(p));
    return { ok: true, result };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const fatal = isBackendAbort(e);
    if (fatal) setTimeout(() => process.exit(1), 50).unref();
    return { ok: false, name: e.name, message: e.message, fatal };
  } finally {
    task.progress.close();
  }
}
