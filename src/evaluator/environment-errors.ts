/**
 * Errors that say nothing about the network being evaluated: the machine failed (a full disk, an
 * I/O error, a permission), or the backend aborted and cannot be trusted again. They are passed on
 * as they are, never turned into an EvaluationFailure of the candidate, so the run pauses with the
 * reason and evaluates the candidate again on resume.
 */

/** True when the tfjs backend of this thread aborted (wasm's `Aborted()`, a RuntimeError). */
export function isBackendAbort(err: unknown): boolean {
  const e = err as Error | undefined;
  return e?.name === 'RuntimeError' || /\bAborted\(/.test(e?.message ?? '');
}

/** True for errors of the environment: a system call's errno code, or a backend abort. */
export function isEnvironmentFailure(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (typeof code === 'string' && /^E[A-Z]+$/.test(code)) || isBackendAbort(err);
}
