/**
 * Telling a crashed backend from a candidate that failed. A WebAssembly trap (`RuntimeError`:
 * memory access out of bounds, unreachable...) or an Emscripten abort (`Aborted(...)`) leaves the
 * wasm backend's heap in an unknown state: every later evaluation on it fails at once. Such a
 * failure is the environment's, not the candidate's, so it is a {@link BackendAbortError} and not
 * an EvaluationFailure: a search stops (and can be resumed) instead of marking candidate after
 * candidate failed, and the worker thread it ran in is replaced (worker-pool.ts, evaluation-worker.ts).
 */

/** The evaluation could not run because its backend (or the worker running it) crashed. */
export class BackendAbortError extends Error {
  override name = 'BackendAbortError';
}

const ABORT_MESSAGE = /\bAborted\(|memory access out of bounds|Cannot enlarge memory/;

/** True when `err` (or an error it was caused by) is a wasm trap or an Emscripten abort. */
export function isBackendAbort(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof BackendAbortError || e instanceof WebAssembly.RuntimeError) return true;
    if (e.name === 'RuntimeError' || e.name === 'BackendAbortError') return true;
    if (ABORT_MESSAGE.test(e.message)) return true;
  }
  return typeof err === 'string' && ABORT_MESSAGE.test(err);
}

/** The BackendAbortError for `err` (itself when it already is one). */
export function backendAbort(err: unknown): BackendAbortError {
  if (err instanceof BackendAbortError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BackendAbortError(`the evaluation backend crashed (${message})`, { cause: err });
}
