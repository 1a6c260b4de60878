/**
 * Crash-safe file replacement: write a temp file in the same folder, fsync it, rename it over the
 * target, fsync the folder. A kill at any instant leaves either the old or the new file, never half.
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

let counter = 0;

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await (typeof data === 'string' ? fh.writeFile(data, 'utf8') : fh.writeFile(data));
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** fsync of a folder so a rename in it is durable (a no-op where the platform refuses it). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  }
}

/** fsync of a file by path (after a write made through another handle, e.g. lowdb's). */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
