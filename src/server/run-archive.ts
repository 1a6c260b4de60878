/**
 * Deleting and archiving a run folder (DELETE /api/runs/:id, POST /api/runs/:id/archive). The run's
 * lock is taken first, so a run another process writes is refused (RunLockedError, 409); an
 * archived run moves to `<runs>/.archive/<id>` (not a run id, so it is no longer listed; move it
 * back to list it again), a deleted one is removed with its weights.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { FileRunStorage } from '../store/file-run-storage.js';
import type { RunStorage } from '../store/run-storage.js';
import { HttpError } from './http-errors.js';
import type { RetireAction } from './run-manager.js';

/** Where archived runs go, inside the runs folder. */
export const ARCHIVE_DIR = '.archive';

export async function retireRunFolder(
  storage: RunStorage,
  runsDir: string,
  runId: string,
  how: RetireAction,
): Promise<void> {
  if (!(storage instanceof FileRunStorage)) {
    throw new HttpError(501, `runs in this storage cannot be ${how}d`);
  }
  // Taking the lock proves no process writes the run (RunLockedError otherwise); released at once.
  const session = await storage.open(runId);
  await session.close();
  const dir = storage.runDir(runId);
  if (how === 'delete') {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  const archive = join(runsDir, ARCHIVE_DIR);
  await mkdir(archive, { recursive: true });
  const target = join(archive, runId);
  if (existsSync(target)) {
    throw new HttpError(409, `an archived run ${runId} is already in ${archive}`);
  }
  await rename(dir, target);
}
