/**
 * The safetensors format (https://github.com/huggingface/safetensors), written and read here
 * without any dependency: 8 bytes little-endian u64 N | N bytes of JSON header | raw data. The
 * header maps each tensor name to {dtype, shape, data_offsets: [begin, end]} (byte offsets into
 * the data, which follows the header directly) and may hold "__metadata__" (strings only). The
 * header is padded with spaces to a multiple of 8 bytes, so every tensor starts 8-byte aligned.
 * Data are little-endian, C order (row-major), tensors in the order given, without gaps.
 */
import { InputError } from '../core/errors.js';

export type SafetensorsDtype = 'F32' | 'I64';

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** F32: the values; I64: the values as bigints. */
  readonly data: Float32Array | BigInt64Array;
}

const BYTES: Readonly<Record<SafetensorsDtype, number>> = { F32: 4, I64: 8 };

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Encodes tensors (in the order given) and string metadata as one safetensors file. */
export function encodeSafetensors(
  tensors: readonly SafetensorsTensor[],
  metadata: Readonly<Record<string, string>> = {},
): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) {
      throw new Error(`safetensors: duplicate or reserved tensor name '${t.name}'`);
    }
    const bytes = elements(t.shape) * BYTES[t.dtype];
    const wantArray = t.dtype === 'F32' ? Float32Array : BigInt64Array;
    if (!(t.data instanceof wantArray) || t.data.length * BYTES[t.dtype] !== bytes) {
      throw new Error(
        `safetensors: tensor '${t.name}' has ${t.data.length} values, its shape [${t.shape.join(', ')}] needs ${elements(t.shape)}`,
      );
    }
    header[t.name] = {
      dtype: t.dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const length = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + length) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors) {
    if (t.data instanceof Float32Array) {
      for (let i = 0; i < t.data.length; i++, at += 4) out.writeFloatLE(t.data[i] as number, at);
    } else {
      for (let i = 0; i < t.data.length; i++, at += 8) out.writeBigInt64LE(t.data[i] as bigint, at);
    }
  }
  return out;
}

export interface DecodedSafetensors {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: readonly SafetensorsTensor[];
}

/**
 * Reads a safetensors file back (F32 and I64 tensors), checking the header and that the offsets
 * tile the data exactly; an InputError names the first problem.
 */
export function decodeSafetensors(bytes: Buffer, source = 'safetensors'): DecodedSafetensors {
  if (bytes.length < 8) throw new InputError(`${source}: too short for a safetensors file`);
  const n = Number(bytes.readBigUInt64LE(0));
  if (8 + n > bytes.length) throw new InputError(`${source}: header length ${n} overruns the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + n)) as Record<string, unknown>;
  } catch {
    throw new InputError(`${source}: header is not valid JSON`);
  }
  const base = 8 + n;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, v]) => {
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const ok =
        (e.dtype === 'F32' || e.dtype === 'I64') &&
        Array.isArray(e.shape) &&
        e.shape.every((d) => Number.isInteger(d) && d >= 0) &&
        Array.isArray(e.data_offsets) &&
        e.data_offsets.length === 2 &&
        e.data_offsets.every((d) => Number.isInteger(d) && d >= 0);
      if (!ok) throw new InputError(`${source}: bad header entry for '${name}'`);
      const [begin, end] = e.data_offsets as [number, number];
      const dtype = e.dtype as SafetensorsDtype;
      const shape = e.shape as number[];
      if (end - begin !== elements(shape) * BYTES[dtype]) {
        throw new InputError(`${source}: '${name}' offsets do not match its dtype and shape`);
      }
      return { name, dtype, shape, begin, end };
    })
    .sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected)
      throw new InputError(`${source}: data of '${e.name}' is not contiguous`);
    expected = e.end;
  }
  if (base + expected !== bytes.length) {
    throw new InputError(
      `${source}: data is ${bytes.length - base} bytes, the header lists ${expected}`,
    );
  }
  const tensors = entries.map((e): SafetensorsTensor => {
    const count = elements(e.shape);
    const at = base + e.begin;
    if (e.dtype === 'F32') {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(at + 4 * i);
      return { name: e.name, dtype: e.dtype, shape: e.shape, data };
    }
    const data = new BigInt64Array(count);
    for (let i = 0; i < count; i++) data[i] = bytes.readBigInt64LE(at + 8 * i);
    return { name: e.name, dtype: e.dtype, shape: e.shape, data };
  });
  return { metadata, tensors };
}
