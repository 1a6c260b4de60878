/**
 * Downloads a data set file: streamed to a temporary file in the destination folder while its md5 is
 * computed, checked against the known checksum, then renamed into place, so a killed or failed
 * download never leaves a half-written file under the real name. Shows a progress bar on a terminal.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InputError } from '../../core/errors.js';
import { createProgressBar } from '../progress.js';
import type { RemoteFile } from './registry.js';

export interface DownloadOptions {
  /** Called with bytes received and the total (0 when the server does not say). */
  readonly onProgress?: (received: number, total: number) => void;
  /** Show a progress bar on stderr when it is a terminal (default true). */
  readonly progressBar?: boolean;
}

/** md5 of a file on disk, as lowercase hex. */
export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Downloads `file` into `folder` (created when missing), trying its URLs in order; returns the path.
 * A checksum mismatch is an InputError naming the file; network failures name every URL tried.
 */
export async function downloadFile(
  file: RemoteFile,
  folder: string,
  options: DownloadOptions = {},
): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const dest = join(folder, file.name);
  const problems: string[] = [];
  for (const url of file.urls) {
    const temp = join(folder, `.${file.name}.${process.pid}.part`);
    try {
      const md5 = await fetchTo(url, temp, file.name, options);
      if (md5 !== file.md5) {
        throw new InputError(
          `${file.name}: checksum mismatch: md5 ${md5}, expected ${file.md5} (downloaded from ${url})`,
        );
      }
      renameSync(temp, dest);
      return dest;
    } catch (err) {
      rmSync(temp, { force: true });
      if (err instanceof InputError) throw err;
      problems.push(`${url}: ${(err as Error).message}`);
    }
  }
  throw new Error(`could not download ${file.name}: ${problems.join('; ')}`);
}

async function fetchTo(
  url: string,
  temp: string,
  label: string,
  options: DownloadOptions,
): Promise<string> {
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length') ?? 0) || 0;
  const bar = options.progressBar === false ? undefined : createProgressBar(label, total, ' B');
  const hash = createHash('md5');
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      hash.update(chunk);
      options.onProgress?.(received, total);
      bar?.update(received);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
      meter,
      createWriteStream(temp),
    );
  } finally {
    bar?.stop();
  }
  if (total > 0 && received !== total) {
    throw new Error(`connection closed after ${received} of ${total} bytes`);
  }
  return hash.digest('hex');
}
