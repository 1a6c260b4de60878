/**
 * Reads gzipped IDX files (the MNIST / Fashion-MNIST format): a magic number (0x0000 0x08 ndims for
 * unsigned bytes), ndims big-endian 32-bit sizes, then the bytes. Every problem is an InputError that
 * names the file and says what is wrong (bad gzip, bad magic number, wrong size).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../../core/errors.js';

export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Reads a file from disk (gzip when the name ends in .gz) and parses it. */
export function readIdxFile(path: string, expectedDims?: number): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return parseIdx(raw, path, expectedDims);
}

/** Parses IDX bytes (gunzipping first when they start with the gzip magic, or the name ends in .gz). */
export function parseIdx(raw: Buffer, name: string, expectedDims?: number): IdxArray {
  let bytes = raw;
  const gzipped = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (gzipped || name.endsWith('.gz')) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      throw new InputError(`${name}: not a valid gzip file (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4) {
    throw new InputError(`${name}: truncated: ${bytes.length} bytes, too short for an IDX header`);
  }
  const type = bytes[2];
  const ndims = bytes[3] as number;
  if (bytes[0] !== 0 || bytes[1] !== 0 || type !== 0x08 || ndims < 1 || ndims > 4) {
    const magic = bytes.readUInt32BE(0).toString(16).padStart(8, '0');
    throw new InputError(
      `${name}: bad magic number 0x${magic} (expected 0x000008nn: unsigned bytes, 1-4 dimensions)`,
    );
  }
  if (expectedDims !== undefined && ndims !== expectedDims) {
    throw new InputError(`${name}: has ${ndims} dimensions, expected ${expectedDims}`);
  }
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    throw new InputError(`${name}: truncated: ${bytes.length} bytes, header needs ${headerSize}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(bytes.readUInt32BE(4 + 4 * d));
  const expected = headerSize + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw new InputError(
      `${name}: wrong size: ${bytes.length} bytes${bytes.length < expected ? ' (truncated)' : ''}, ` +
        `expected ${expected} for dimensions ${dims.join('x')}`,
    );
  }
  return {
    dims,
    data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerSize, expected - headerSize),
  };
}
