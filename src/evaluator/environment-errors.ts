/**
 * Errors that say nothing about the network being evaluated: the machine failed (a full disk, an
 * I/O error, a permission). They are passed on as they are, never turned into an EvaluationFailure
 * of the candidate, so the run pauses with the reason and evaluates the candidate again on resume.
 * (A crashed backend is the other such error: see backend-abort.ts.)
 */

/** True for an error of a system call (it carries an errno code such as ENOSPC, EIO, EACCES). */
export function hasErrnoCode(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
