/** The safetensors writer: the bytes follow the format (read back by hand and by the decoder). */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/export/safetensors.js';

const conv = Float32Array.from({ length: 2 * 3 * 1 * 1 }, (_, i) => i / 7 - 0.25);
const bias = new Float32Array([1.5, -2.25]);
const count = new BigInt64Array([42n]);

function encoded(): Buffer {
  return encodeSafetensors(
    [
      { name: 'stem.0.weight', dtype: 'F32', shape: [2, 3, 1, 1], data: conv },
      { name: 'classifier.bias', dtype: 'F32', shape: [2], data: bias },
      { name: 'stem.1.num_batches_tracked', dtype: 'I64', shape: [], data: count },
    ],
    { format: 'pt', run: 'r1' },
  );
}

describe('encodeSafetensors', () => {
  it('writes an 8-byte little-endian header length, a JSON header and raw little-endian data', () => {
    const bytes = encoded();
    const n = Number(bytes.readBigUInt64LE(0));
    // Header padded with spaces so that the data start 8-byte aligned.
    expect((8 + n) % 8).toBe(0);
    const text = bytes.toString('utf8', 8, 8 + n);
    const header = JSON.parse(text) as Record<string, unknown>;
    expect(text.slice(JSON.stringify(header).length)).toMatch(/^ {0,7}$/);
    expect(header.__metadata__).toEqual({ format: 'pt', run: 'r1' });
    expect(header['stem.0.weight']).toEqual({
      dtype: 'F32',
      shape: [2, 3, 1, 1],
      data_offsets: [0, 24],
    });
    expect(header['classifier.bias']).toEqual({ dtype: 'F32', shape: [2], data_offsets: [24, 32] });
    expect(header['stem.1.num_batches_tracked']).toEqual({
      dtype: 'I64',
      shape: [],
      data_offsets: [32, 40],
    });
    const base = 8 + n;
    expect(bytes.length).toBe(base + 40);
    for (let i = 0; i < conv.length; i++) {
      expect(bytes.readFloatLE(base + 4 * i)).toBe(conv[i]);
    }
    expect(bytes.readFloatLE(base + 24)).toBe(1.5);
    expect(bytes.readFloatLE(base + 28)).toBe(-2.25);
    expect(bytes.readBigInt64LE(base + 32)).toBe(42n);
  });

  it('decodes back to the same names, shapes and values', () => {
    const { metadata, tensors } = decodeSafetensors(encoded());
    expect(metadata).toEqual({ format: 'pt', run: 'r1' });
    expect(tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['stem.0.weight', 'F32', [2, 3, 1, 1]],
      ['classifier.bias', 'F32', [2]],
      ['stem.1.num_batches_tracked', 'I64', []],
    ]);
    expect([...(tensors[0]!.data as Float32Array)]).toEqual([...conv]);
    expect([...(tensors[2]!.data as BigInt64Array)]).toEqual([42n]);
  });

  it('refuses values that do not fit the shape, and duplicate names', () => {
    expect(() =>
      encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }]),
    ).toThrow(/'a' has 2 values, its shape \[3\] needs 3/);
    expect(() =>
      encodeSafetensors([
        { name: 'a', dtype: 'F32', shape: [1], data: new Float32Array(1) },
        { name: 'a', dtype: 'F32', shape: [1], data: new Float32Array(1) },
      ]),
    ).toThrow(/duplicate/);
  });

  it('rejects broken files naming the problem', () => {
    const bytes = encoded();
    expect(() => decodeSafetensors(bytes.subarray(0, 4))).toThrow(InputError);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1))).toThrow(
      /data is 39 bytes, the header lists 40/,
    );
    const huge = Buffer.from(bytes);
    huge.writeBigUInt64LE(10_000n, 0);
    expect(() => decodeSafetensors(huge)).toThrow(/overruns the file/);
  });
});
