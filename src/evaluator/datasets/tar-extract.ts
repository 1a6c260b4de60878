/**
 * Extracts chosen regular files from a gzipped tar archive (ustar), streaming: each wanted member is
 * written to a temporary file and renamed into place. Used to unpack CIFAR-10's binary archive.
 */
import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  renameSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../core/errors.js';

const BLOCK = 512;

/**
 * Writes every member whose base name satisfies `want` into `folder` (flattened); returns the names
 * written. A malformed archive is an InputError naming it.
 */
export async function extractTarGz(
  archive: string,
  folder: string,
  want: (name: string) => boolean,
): Promise<string[]> {
  mkdirSync(folder, { recursive: true });
  const written: string[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let remaining = 0; // bytes of the current member still to come
  let padding = 0; // padding bytes after it
  let out: WriteStream | undefined;
  let outName = '';
  let outTemp = '';
  let ended = false;
  // A write error (a full disk...) is recorded here and rethrown, never left uncaught.
  let writeError: Error | undefined;

  const finishMember = async (): Promise<void> => {
    if (!out) return;
    const stream = out;
    out = undefined;
    await new Promise<void>((ok, fail) =>
      stream.end((err?: Error | null) => (err ? fail(err) : ok())),
    );
    renameSync(outTemp, join(folder, outName));
    written.push(outName);
  };

  try {
    for await (const chunk of createReadStream(archive).pipe(
      createGunzip(),
    ) as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (!ended) {
        if (remaining > 0) {
          const take = Math.min(remaining, pending.length);
          if (take === 0) break;
          if (out && !out.write(pending.subarray(0, take))) await once(out, 'drain');
          if (writeError) throw writeError;
          pending = pending.subarray(take);
          remaining -= take;
          if (remaining > 0) break;
          await finishMember();
          continue;
        }
        if (padding > 0) {
          const skip = Math.min(padding, pending.length);
          pending = pending.subarray(skip);
          padding -= skip;
          if (padding > 0) break;
          continue;
        }
        if (pending.length < BLOCK) break;
        const header = pending.subarray(0, BLOCK);
        pending = pending.subarray(BLOCK);
        if (header.every((b) => b === 0)) {
          ended = true;
          break;
        }
        const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
        const prefix = header.subarray(345, 500).toString('latin1').replace(/\0.*$/s, '');
        const sizeText = header
          .subarray(124, 136)
          .toString('latin1')
          .replace(/[\0 ]+$/, '')
          .trim();
        const size = parseInt(sizeText || '0', 8);
        if (!Number.isFinite(size) || size < 0) {
          throw new InputError(`${archive}: corrupt tar header for '${name}'`);
        }
        const type = String.fromCharCode(header[156] as number);
        remaining = size;
        padding = (BLOCK - (size % BLOCK)) % BLOCK;
        const base = basename(prefix ? `${prefix}/${name}` : name);
        if ((type === '0' || type === '\0') && want(base)) {
          outName = base;
          outTemp = join(folder, `.${base}.${process.pid}.part`);
          out = createWriteStream(outTemp);
          out.on('error', (err) => (writeError = err));
          if (size === 0) await finishMember();
        }
      }
    }
  } catch (err) {
    if (out) {
      out.destroy();
      rmSync(outTemp, { force: true });
    }
    if (err instanceof InputError) throw err;
    throw new InputError(`${archive}: cannot unpack (${(err as Error).message})`);
  }
  if (remaining > 0 || out) {
    out?.destroy();
    rmSync(outTemp, { force: true });
    throw new InputError(`${archive}: truncated archive`);
  }
  return written;
}
