/**
 * A minimal reader of zip archives held in memory, enough for NumPy's .npz files (np.savez writes
 * stored entries, np.savez_compressed deflated ones, both with zip64 extra fields): the central
 * directory is read from the end of the file, each entry's data found through its local header and
 * inflated with node's zlib. Encrypted entries, multi-disk archives and other methods are refused.
 * Errors are InputErrors naming `label` (the file) and the problem.
 */
import { inflateRawSync } from 'node:zlib';
import { InputError } from '../../core/errors.js';

export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

function u64(buf: Buffer, at: number): number {
  const value = buf.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('64-bit size too large');
  return Number(value);
}

/** The entries of the archive in `buf` (its central directory). */
export function zipEntries(buf: Buffer, label: string): ZipEntry[] {
  const bad = (why: string): InputError =>
    new InputError(`${label}: not a readable zip/npz file (${why})`);
  // The end-of-central-directory record: 22 bytes plus a comment of at most 65535.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record');
  let count = buf.readUInt16LE(eocd + 10);
  let dirSize = buf.readUInt32LE(eocd + 12);
  let dirOffset = buf.readUInt32LE(eocd + 16);
  if (buf.readUInt16LE(eocd + 4) !== 0 || buf.readUInt16LE(eocd + 6) !== 0) {
    throw bad('multi-disk archives are not supported');
  }
  if (count === 0xffff || dirSize === MAX32 || dirOffset === MAX32) {
    const locator = eocd - 20;
    if (locator < 0 || buf.readUInt32LE(locator) !== ZIP64_LOCATOR) throw bad('no zip64 locator');
    const at = u64(buf, locator + 8);
    if (at + 56 > buf.length || buf.readUInt32LE(at) !== ZIP64_EOCD) throw bad('bad zip64 record');
    count = u64(buf, at + 32);
    dirSize = u64(buf, at + 40);
    dirOffset = u64(buf, at + 48);
  }
  if (dirOffset + dirSize > buf.length) throw bad('truncated central directory');
  const entries: ZipEntry[] = [];
  let p = dirOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL) throw bad('bad central directory');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    let localHeaderOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLength);
    if (flags & 1) throw bad(`${name} is encrypted`);
    // The zip64 extra field holds, in this order, the sizes and offset whose 32-bit fields are full.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const length = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === MAX32) {
          size = u64(buf, q);
          q += 8;
        }
        if (compressedSize === MAX32) {
          compressedSize = u64(buf, q);
          q += 8;
        }
        if (localHeaderOffset === MAX32) localHeaderOffset = u64(buf, q);
      }
      e += 4 + length;
    }
    entries.push({ name, method, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLength;
  }
  return entries;
}

/** The uncompressed bytes of `entry`; refuses entries larger than `maxBytes`. */
export function zipEntryData(
  buf: Buffer,
  entry: ZipEntry,
  label: string,
  maxBytes: number,
): Buffer {
  const bad = (why: string): InputError =>
    new InputError(`${label}: cannot read ${entry.name} (${why})`);
  if (entry.size > maxBytes) {
    throw new InputError(
      `${label}: ${entry.name} holds ${entry.size} bytes, over the limit of ${maxBytes} (ROBUST_NAS_MAX_DATA_MB)`,
    );
  }
  const at = entry.localHeaderOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL) throw bad('bad local header');
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length) throw bad('truncated');
  const raw = buf.subarray(start, end);
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw bad('stored sizes disagree');
    return raw;
  }
  if (entry.method !== 8) throw bad(`compression method ${entry.method} is not supported`);
  let data: Buffer;
  try {
    data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
  } catch (err) {
    throw bad(`corrupt deflate data: ${(err as Error).message}`);
  }
  if (data.length !== entry.size)
    throw bad(`${data.length} bytes inflated, ${entry.size} expected`);
  return data;
}
