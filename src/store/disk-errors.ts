/**
 * Write errors named for what they are: a full disk (ENOSPC, EDQUOT) names the file and the disk
 * (its mount point and device, from /proc/self/mounts on Linux) and how much is free, so that a
 * user knows which disk to clean; the error keeps its code for callers that decide by it.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { errno } from './errors.js';

export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** A write that failed for a fault of the environment (the disk), naming the path and the disk. */
export class DiskWriteError extends Error {
  override name = 'DiskWriteError';
  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The mount point and device that hold `path` (longest mount prefix), when the system tells. */
export function diskOf(path: string): { mount: string; device: string } | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  const abs = resolve(path);
  let best: { mount: string; device: string } | undefined;
  for (const line of text.split('\n')) {
    const [device, rawMount] = line.split(' ');
    if (!device || !rawMount) continue;
    const mount = rawMount.replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    const inside = mount === '/' || abs === mount || abs.startsWith(mount + sep);
    if (inside && (!best || mount.length >= best.mount.length)) best = { mount, device };
  }
  return best;
}

function freeBytes(path: string): number | undefined {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      const s = statfsSync(p);
      return s.bavail * s.bsize;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** The sentence for a full disk under `path`. */
export function diskFullMessage(path: string, code = 'ENOSPC'): string {
  const disk = diskOf(path);
  const free = freeBytes(path);
  const where = disk ? `the disk ${disk.device} mounted at ${disk.mount}` : 'its disk';
  const left = free !== undefined ? `, ${(free / 2 ** 20).toFixed(1)} MiB free` : '';
  return `cannot write ${path}: ${where} is full (${code}${left}); free some space, then resume`;
}

/**
 * `err` as a DiskWriteError naming `path` (and the disk when it is full); other errors unchanged.
 * `what` says what was being written ("the run", "the study").
 */
export function nameWriteError(err: unknown, path: string): unknown {
  if (err instanceof DiskWriteError) return err;
  const code = errno(err);
  if (code === undefined) return err;
  const message = DISK_FULL_CODES.has(code)
    ? diskFullMessage(path, code)
    : `cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`;
  return new DiskWriteError(message, code, path, { cause: err });
}
