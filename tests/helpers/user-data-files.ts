/**
 * Writes the user's own data as a user would have it, for the tests of `--dataset folder` and
 * `--dataset npz`: PNG and JPEG files in an ImageFolder tree (pngjs, jpeg-js), and .npz archives
 * as NumPy writes them (a zip of .npy arrays, stored or deflated), built here byte by byte.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A grey (channels 1) or RGB (channels 3) image as bytes, row by row. */
export interface Picture {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly pixels: Uint8Array;
}

function rgba(p: Picture): Buffer {
  const out = Buffer.alloc(p.width * p.height * 4);
  for (let i = 0; i < p.width * p.height; i++) {
    for (let k = 0; k < 3; k++)
      out[4 * i + k] = p.pixels[p.channels * i + (p.channels === 3 ? k : 0)] as number;
    out[4 * i + 3] = 255;
  }
  return out;
}

export function pngBytes(p: Picture): Buffer {
  const png = new PNG({ width: p.width, height: p.height });
  png.data = rgba(p);
  return PNG.sync.write(png, { colorType: p.channels === 1 ? 0 : 2 });
}

export function jpegBytes(p: Picture, quality = 95): Buffer {
  return jpeg.encode({ data: rgba(p), width: p.width, height: p.height }, quality).data;
}

export function writeFile(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/**
 * A picture of class `label` of a two-class toy problem: class 0 bright on the left half, class 1
 * bright on the right half, with noise drawn from `index`.
 */
export function toyPicture(label: number, index: number, size = 8, channels: 1 | 3 = 1): Picture {
  const pixels = new Uint8Array(size * size * channels);
  let state = (index * 2654435761 + label * 97 + 1) >>> 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      state = (state * 1664525 + 1013904223) >>> 0;
      const bright = x < size / 2 === (label === 0);
      const v = (bright ? 180 : 40) + (state % 60);
      for (let k = 0; k < channels; k++)
        pixels[(y * size + x) * channels + k] = k === 1 ? 255 - v : v;
    }
  }
  return { width: size, height: size, channels, pixels };
}

/** An ImageFolder tree: DIR/{train,test}/<class>/<n>.png, `perClass` images per class and split. */
export function writeImageFolder(
  dir: string,
  classes: readonly string[],
  perClass: { train: number; test: number },
  options: { size?: number; channels?: 1 | 3; jpegClass?: string } = {},
): void {
  for (const split of ['train', 'test'] as const) {
    classes.forEach((name, label) => {
      for (let i = 0; i < perClass[split]; i++) {
        const picture = toyPicture(
          label,
          i + (split === 'test' ? 1000 : 0),
          options.size,
          options.channels,
        );
        const asJpeg = options.jpegClass === name;
        writeFile(
          join(dir, split, name, `${i}.${asJpeg ? 'jpg' : 'png'}`),
          asJpeg ? jpegBytes(picture) : pngBytes(picture),
        );
      }
    });
  }
}

/** An array as NumPy's .npy (format 1.0). */
export function npyBytes(descr: string, shape: readonly number[], data: Uint8Array): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data)]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of `files` (name -> bytes), stored or deflated, as np.savez(_compressed) makes. */
export function zipBytes(files: Readonly<Record<string, Uint8Array>>, deflate = false): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(files)) {
    const body = deflate ? deflateRawSync(data) : Buffer.from(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(files).length, 8);
  end.writeUInt16LE(Object.keys(files).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** A two-class toy set as Keras's mnist.npz holds it: x uint8 N x H x W, y uint8 N. */
export function toyNpzArrays(
  counts: { train: number; test: number },
  size = 8,
): Record<string, Uint8Array> {
  const arrays: Record<string, Uint8Array> = {};
  for (const split of ['train', 'test'] as const) {
    const n = counts[split];
    const x = new Uint8Array(n * size * size);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      x.set(toyPicture(i % 2, i + (split === 'test' ? 1000 : 0), size).pixels, i * size * size);
    }
    arrays[`x_${split}.npy`] = npyBytes('|u1', [n, size, size], x);
    arrays[`y_${split}.npy`] = npyBytes('|u1', [n], y);
  }
  return arrays;
}
