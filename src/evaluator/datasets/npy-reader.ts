/**
 * Reads NumPy .npy arrays (format versions 1 to 3) from bytes: the header is parsed as data (a
 * Python dict literal of 'descr', 'fortran_order' and 'shape'), never evaluated. Only what image data
 * sets hold is accepted: unsigned or signed integers of 1, 2, 4 or 8 bytes, little-endian, C order.
 */
import { InputError } from '../../core/errors.js';

export interface NpyArray {
  /** NumPy's dtype code, e.g. 'u1', 'i8' (byte order removed). */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The raw little-endian element bytes (a view into the input). */
  readonly bytes: Buffer;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** The array in `buf`; InputError naming `label` otherwise. */
export function readNpy(buf: Buffer, label: string): NpyArray {
  const bad = (why: string): InputError => new InputError(`${label}: ${why}`);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw bad('not a .npy array');
  const major = buf[6] as number;
  if (major < 1 || major > 3) throw bad(`.npy format version ${major} is not supported`);
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > buf.length) throw bad('truncated .npy header');
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLength);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw bad(`unreadable .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True')
    throw bad('Fortran-ordered array; save it in C order (np.ascontiguousarray)');
  const m = /^([<|=>]?)([iuf])(\d+)$/.exec(descr);
  if (!m) throw bad(`dtype '${descr}' is not a number type`);
  const [, order, kind, sizeText] = m as unknown as [string, string, string, string];
  const size = Number(sizeText);
  if (order === '>' && size > 1) throw bad(`big-endian dtype '${descr}' is not supported`);
  const dims = shapeText
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (!dims.every((d) => /^\d+$/.test(d))) throw bad(`bad shape (${shapeText})`);
  const shape = dims.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLength;
  if (dataStart + count * size > buf.length) {
    throw bad(
      `truncated: shape (${shape.join(', ')}) needs ${count * size} bytes of data, found ${buf.length - dataStart}`,
    );
  }
  return {
    dtype: `${kind}${size}`,
    shape,
    bytes: buf.subarray(dataStart, dataStart + count * size),
  };
}

/** The elements of an integer array as numbers (labels); InputError for other dtypes. */
export function npyIntegers(a: NpyArray, label: string): Float64Array {
  const n = a.shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  const b = a.bytes;
  const read: Record<string, (i: number) => number> = {
    u1: (i) => b.readUInt8(i),
    i1: (i) => b.readInt8(i),
    u2: (i) => b.readUInt16LE(2 * i),
    i2: (i) => b.readInt16LE(2 * i),
    u4: (i) => b.readUInt32LE(4 * i),
    i4: (i) => b.readInt32LE(4 * i),
    u8: (i) => Number(b.readBigUInt64LE(8 * i)),
    i8: (i) => Number(b.readBigInt64LE(8 * i)),
  };
  const get = read[a.dtype];
  if (!get) throw new InputError(`${label}: dtype ${a.dtype} holds no integer class labels`);
  for (let i = 0; i < n; i++) out[i] = get(i);
  return out;
}
