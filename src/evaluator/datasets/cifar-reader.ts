/**
 * Reads CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G,
 * 1024 B, each row-major 32x32), converted to NHWC. A file of the wrong size or with a label
 * outside 0..9 is an InputError naming the file.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import type { ImageSet } from './image-set.js';

const SIDE = 32;
const PIXELS = SIDE * SIDE;
const RECORD = 1 + 3 * PIXELS;

/**
 * Reads one batch file of at most `records` records (10 000 in the canonical files; a slice of one,
 * such as the test fixtures, holds fewer). A file that is not a whole number of records is truncated.
 */
export function readCifarBatch(path: string, records?: number): ImageSet {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parseCifarBatch(raw, path, records);
}

export function parseCifarBatch(raw: Uint8Array, name: string, records?: number): ImageSet {
  if (raw.length === 0 || raw.length % RECORD !== 0) {
    throw new InputError(
      `${name}: wrong size: ${raw.length} bytes, not a whole number of ${RECORD}-byte records (truncated or not a CIFAR-10 batch)`,
    );
  }
  if (records !== undefined && raw.length > records * RECORD) {
    throw new InputError(
      `${name}: wrong size: ${raw.length / RECORD} records, expected at most ${records}`,
    );
  }
  const count = raw.length / RECORD;
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * RECORD;
    const label = raw[base] as number;
    if (label > 9) {
      throw new InputError(`${name}: corrupt: record ${r} has label ${label}, expected 0..9`);
    }
    labels[r] = label;
    const out = r * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[out + 3 * p] = raw[base + 1 + p] as number;
      images[out + 3 * p + 1] = raw[base + 1 + PIXELS + p] as number;
      images[out + 3 * p + 2] = raw[base + 1 + 2 * PIXELS + p] as number;
    }
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}
