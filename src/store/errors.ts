/** Errors about runs on disk. */
import { InputError } from '../core/errors.js';

/** No run with that id in the runs folder. */
export class RunNotFoundError extends Error {
  override name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`unknown run: ${runId}`);
  }
}

/** The run's files cannot be read (bad JSON, wrong shape, broken journal). Never overwritten. */
export class RunCorruptError extends Error {
  override name = 'RunCorruptError';
  constructor(
    readonly runId: string,
    detail: string,
  ) {
    super(`run ${runId} is corrupt (${detail}); it was left untouched`);
  }
}

/** The run was written by a newer robust-nas (higher format version). Never overwritten. */
export class RunFormatVersionError extends Error {
  override name = 'RunFormatVersionError';
  constructor(
    readonly runId: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `run ${runId} has format version ${found}, newer than this robust-nas reads (${supported}); upgrade robust-nas`,
    );
  }
}

/** The run is held for writing right now by a live process (or another session of this one). */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly runId: string,
    readonly pid: number,
    readonly host?: string,
  ) {
    super(
      `run ${runId} is already running (process ${pid}${host !== undefined ? ` on ${host}` : ''})`,
    );
  }
}

/** The run's status does not allow what was asked (e.g. stopping a completed run). Nothing changed. */
export class RunStatusError extends InputError {
  override name = 'RunStatusError';
  constructor(
    readonly runId: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Checks a run id (no path traversal); InputError otherwise. */
export function checkRunId(runId: unknown): string {
  if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) {
    throw new InputError(
      `invalid run id ${JSON.stringify(runId)} (letters, digits, '_' and '-', at most 64, starting with a letter or digit)`,
    );
  }
  return runId;
}

/** The code of a Node.js system error (ENOENT, ENOSPC, ...), if it is one. */
export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
