/**
 * Extracts chosen regular files from a gzipped tar archive with node-tar (ustar, pax and GNU long
 * names), flattened into one folder: used to unpack CIFAR-10's binary archive. Members are written
 * into a staging folder inside the target and renamed into place only when the whole archive has
 * been read, so a broken or truncated archive leaves no member behind.
 */
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { extract, type ReadEntry } from 'tar';
import { InputError } from '../../core/errors.js';

/** Entry types that hold a regular file's bytes. */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/** A member path that stays inside the staging folder: relative, no '..' segment, not empty. */
function safeMemberPath(path: string): boolean {
  if (path === '' || isAbsolute(path) || /^[A-Za-z]:/.test(path)) return false;
  return !path.split(/[\\/]+/).some((segment) => segment === '..');
}

/**
 * Writes every regular-file member whose base name satisfies `want` into `folder` (flattened; when
 * two members share a base name the later one wins); returns the base names written. A malformed or
 * truncated archive is an InputError naming it.
 */
export async function extractTarGz(
  archive: string,
  folder: string,
  want: (name: string) => boolean,
): Promise<string[]> {
  await mkdir(folder, { recursive: true });
  const staging = await mkdtemp(join(folder, '.extract-'));
  /** Base name -> the member's path in the archive (and under `staging`). */
  const chosen = new Map<string, string>();
  try {
    try {
      await extract({
        file: archive,
        cwd: staging,
        strict: true,
        preserveOwner: false,
        filter: (path, entry) => {
          const base = basename(path);
          const type = (entry as ReadEntry).type;
          if (!FILE_TYPES.has(type) || !safeMemberPath(path) || !want(base)) return false;
          chosen.delete(base); // keep the archive order of the last occurrence
          chosen.set(base, path);
          return true;
        },
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new InputError(`${archive}: cannot unpack (${message})`);
    }
    for (const [base, path] of chosen) await rename(join(staging, path), join(folder, base));
    return [...chosen.keys()];
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
