/**
 * The user's own data: `--dataset folder` (ImageFolder of PNG/JPEG) and `--dataset npz` (Keras's
 * mnist.npz layout), read from files written here (and two .npz files written by NumPy itself),
 * checked like the built-in sets, bounded, and identified by their content.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { loadDataset } from '../../src/evaluator/datasets/load.js';
import { resolveNamedDataDir } from '../../src/evaluator/datasets/locate.js';
import {
  byCodePoint,
  clearUserDataCache,
  datasetGeometry,
  loadUserDataset,
} from '../../src/evaluator/datasets/user-data.js';
import { FIXTURE_DATA } from '../helpers/datasets.js';
import {
  jpegBytes,
  npyBytes,
  pngBytes,
  toyNpzArrays,
  toyPicture,
  writeFile,
  writeImageFolder,
  zipBytes,
} from '../helpers/user-data-files.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-user-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => clearUserDataCache());

let serial = 0;
function fresh(name: string): string {
  return join(root, `${name}-${serial++}`);
}

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected an InputError');
}

describe('--dataset folder (ImageFolder layout)', () => {
  it('reads train/<class>/ and test/<class>/: classes sorted as torchvision sorts them, grey PNGs as one channel', () => {
    const dir = fresh('folder');
    writeImageFolder(dir, ['b', 'B', 'a'], { train: 3, test: 2 });
    writeFile(join(dir, 'train', 'a', 'notes.txt'), 'not an image');
    writeFile(join(dir, 'train', 'a', 'nested', 'deep.png'), pngBytes(toyPicture(0, 50)));
    const data = loadUserDataset('folder', dir);
    // Python's sorted(): by code point, upper case first.
    expect(data.spec.classNames).toEqual(['B', 'a', 'b']);
    expect(['b', 'B', 'a'].sort(byCodePoint)).toEqual(['B', 'a', 'b']);
    expect(data.spec.shape).toEqual([8, 8, 1]);
    expect(data.spec.numClasses).toBe(3);
    expect(data.train.count).toBe(10); // 3 per class + the nested one in a/
    expect(data.test.count).toBe(6);
    // Labels follow the sorted classes; files within a class in sorted order.
    expect(Array.from(data.train.labels)).toEqual([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
    expect(Array.from(data.train.images.subarray(0, 8))).toEqual(
      Array.from(toyPicture(1, 0).pixels.subarray(0, 8)), // B is the second class written
    );
    expect(data.notes.join(' ')).toMatch(
      /3 classes \(B, a, b\), 10 training and 6 test images of 8x8x1/,
    );
    expect(data.notes.join(' ')).toMatch(/skipped 1 files that are not images/);
    // Statistics of the training pixels, as the model's input normalisation.
    const pixels = Array.from(data.train.images, (v) => v / 255);
    const mean = pixels.reduce((a, b) => a + b, 0) / pixels.length;
    expect(data.spec.mean[0]).toBeCloseTo(mean, 12);
    expect(data.spec.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('colour images (PNG and JPEG) give three channels', () => {
    const dir = fresh('rgb');
    writeImageFolder(dir, ['cat', 'dog'], { train: 2, test: 1 }, { channels: 3, jpegClass: 'dog' });
    const data = loadUserDataset('folder', dir);
    expect(data.spec.shape).toEqual([8, 8, 3]);
    expect(data.spec.mean).toHaveLength(3);
    // The PNG is exact; the JPEG is lossy but close.
    expect(Array.from(data.train.images.subarray(0, 3 * 64))).toEqual(
      Array.from(toyPicture(0, 0, 8, 3).pixels),
    );
    const dog = data.train.images.subarray(2 * 3 * 64, 3 * 3 * 64);
    const expected = toyPicture(1, 0, 8, 3).pixels;
    const worst = Math.max(...Array.from(dog, (v, i) => Math.abs(v - (expected[i] as number))));
    expect(worst).toBeLessThan(40);
  });

  it("the identity is the files' content: a changed file changes the checksum and is refused by a run that recorded the old one", () => {
    const dir = fresh('changed');
    writeImageFolder(dir, ['x', 'y'], { train: 2, test: 1 });
    const before = loadUserDataset('folder', dir).spec.checksum;
    expect(loadUserDataset('folder', dir, { expectedChecksum: before }).spec.checksum).toBe(before);
    // Same name and size, other pixels.
    writeFile(join(dir, 'train', 'x', '0.png'), pngBytes(toyPicture(1, 7)));
    const after = loadUserDataset('folder', dir).spec.checksum;
    expect(after).not.toBe(before);
    expect(inputError(() => loadUserDataset('folder', dir, { expectedChecksum: before }))).toMatch(
      /the data changed since this run was created/,
    );
    // The same content in another folder has the same identity.
    const copy = fresh('copy');
    writeImageFolder(copy, ['x', 'y'], { train: 2, test: 1 });
    writeFile(join(copy, 'train', 'x', '0.png'), pngBytes(toyPicture(1, 7)));
    expect(loadUserDataset('folder', copy).spec.checksum).toBe(after);
  });

  it('loadDataset, the memory estimate and the data-folder check see the same set', async () => {
    const dir = fresh('load');
    writeImageFolder(dir, ['p', 'q'], { train: 3, test: 2 }, { size: 10 });
    const loaded = await loadDataset('folder', { dataDir: dir });
    expect(loaded).toMatchObject({ source: 'data-dir', folder: dir });
    expect(loaded.spec).toMatchObject({ name: 'folder', shape: [10, 10, 1], numClasses: 2 });
    expect(datasetGeometry('folder', dir)).toMatchObject({ shape: [10, 10, 1], numClasses: 2 });
    expect(resolveNamedDataDir('folder', dir)).toMatchObject({ folder: dir });
  });

  it('each problem with the data: one line naming the file and what is wrong', () => {
    const bad = (setup: (dir: string) => void, env: NodeJS.ProcessEnv = {}): string => {
      const dir = fresh('bad');
      setup(dir);
      return inputError(() => loadUserDataset('folder', dir, { env }));
    };
    expect(inputError(() => loadUserDataset('folder', undefined))).toMatch(
      /data set 'folder' needs a data folder: --data-dir DIR/,
    );
    expect(bad(() => {})).toMatch(/--data-dir .*bad-\d+ does not exist/);
    expect(bad((d) => writeFile(d, 'x'))).toMatch(/is not a folder/);
    expect(
      bad((d) => writeFile(join(d, 'train', 'a', '0.png'), pngBytes(toyPicture(0, 0)))),
    ).toMatch(/lacks test\/: --dataset folder reads DIR\/train\/<class>\//);
    expect(bad((d) => writeImageFolder(d, ['only'], { train: 2, test: 1 }))).toMatch(
      /train: one class folder \(only\); --dataset folder needs train\/<class>\/ for at least 2 classes/,
    );
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'test', 'c', '0.png'), pngBytes(toyPicture(0, 0)));
      }),
    ).toMatch(/test: class folder\(s\) c not in .*train/);
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'train', 'c', 'readme.txt'), 'x');
      }),
    ).toMatch(/no PNG or JPEG images in class folder\(s\) c/);
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'train', 'a', 'x.bmp'), 'BM');
      }),
    ).toMatch(/a\/x\.bmp: \.bmp images are not supported; convert them to PNG or JPEG/);
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'train', 'b', '1.png'), pngBytes(toyPicture(1, 1, 9)));
      }),
    ).toMatch(/b\/1\.png: 9x9 pixels, but .*a\/0\.png is 8x8: all images must be the same size/);
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'train', 'b', '0.png'), 'plain text named .png');
      }),
    ).toMatch(/b\/0\.png: neither PNG nor JPEG data/);
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'train', 'b', '0.png'), pngBytes(toyPicture(1, 0)).subarray(0, 40));
      }),
    ).toMatch(/b\/0\.png: not a readable PNG/);
    expect(
      bad((d) => {
        writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 });
        writeFile(join(d, 'train', 'b', '0.jpg'), jpegBytes(toyPicture(1, 0)).subarray(0, 30));
      }),
    ).toMatch(/b\/0\.jpg: not a readable JPEG/);
    expect(
      bad((d) => writeImageFolder(d, ['a', 'b'], { train: 2, test: 1 }), {
        ROBUST_NAS_MAX_DATA_MB: '0',
      }),
    ).toMatch(/of images, over the limit of 0\.0 MB \(ROBUST_NAS_MAX_DATA_MB\)/);
  });
});

describe('--dataset npz (Keras mnist.npz layout)', () => {
  it('reads stored and deflated archives written as NumPy writes them', () => {
    for (const deflate of [false, true]) {
      const file = `${fresh('toy')}.npz`;
      writeFile(file, zipBytes(toyNpzArrays({ train: 10, test: 4 }), deflate));
      const data = loadUserDataset('npz', file);
      expect(data.spec).toMatchObject({ shape: [8, 8, 1], numClasses: 2, classNames: ['0', '1'] });
      expect(data.train.count).toBe(10);
      expect(data.test.count).toBe(4);
      expect(Array.from(data.train.labels)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
      expect(Array.from(data.test.images.subarray(64, 128))).toEqual(
        Array.from(toyPicture(1, 1001).pixels),
      );
    }
  });

  it('reads the files NumPy itself wrote (np.savez, np.savez_compressed with int64 labels and RGB)', () => {
    const stored = loadUserDataset('npz', join(FIXTURE_DATA, 'numpy-savez.npz'));
    expect(stored.spec).toMatchObject({ shape: [8, 8, 1], numClasses: 2 });
    expect([stored.train.count, stored.test.count]).toEqual([12, 6]);
    // Values printed by NumPy when the fixture was made (tests/fixtures/datasets/README.md).
    expect(stored.spec.mean[0]).toBeCloseTo(0.75, 12);
    expect(stored.spec.std[0]).toBeCloseTo(0.43301270189221935, 12);
    const rgb = loadUserDataset('npz', join(FIXTURE_DATA, 'numpy-savez-compressed.npz'));
    expect(rgb.spec).toMatchObject({ shape: [8, 8, 3], numClasses: 2 });
    expect(rgb.spec.mean[0]).toBeCloseTo(0.75, 12);
    expect(rgb.spec.mean[1]).toBeCloseTo(0.49800858, 8);
    expect(Array.from(rgb.train.labels.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });

  it('each problem with the arrays: one line naming the file and what is wrong', () => {
    const base = toyNpzArrays({ train: 6, test: 4 });
    const bad = (arrays: Record<string, Uint8Array>, env: NodeJS.ProcessEnv = {}): string => {
      const file = `${fresh('bad')}.npz`;
      writeFile(file, zipBytes(arrays));
      return inputError(() => loadUserDataset('npz', file, { env }));
    };
    const u8 = (n: number, fill = 0) => new Uint8Array(n).fill(fill);
    expect(inputError(() => loadUserDataset('npz', undefined))).toMatch(
      /data set 'npz' needs a file: --data-dir FILE\.npz/,
    );
    expect(inputError(() => loadUserDataset('npz', root))).toMatch(/is not a file/);
    const notZip = `${fresh('text')}.npz`;
    writeFileSync(notZip, 'hello');
    expect(inputError(() => loadUserDataset('npz', notZip))).toMatch(
      /text-\d+\.npz: not a readable zip\/npz file \(no end-of-central-directory record\)/,
    );
    const { 'y_test.npy': _omitted, ...noYTest } = base;
    expect(bad(noYTest)).toMatch(
      /no y_test array \(found x_train, y_train, x_test; expected x_train, y_train, x_test, y_test/,
    );
    expect(bad({ ...base, 'x_train.npy': npyBytes('<f4', [6, 8, 8], u8(6 * 64 * 4)) })).toMatch(
      /x_train has dtype f4; expected uint8 pixels 0\.\.255/,
    );
    expect(bad({ ...base, 'x_train.npy': npyBytes('|u1', [6, 3, 8, 8], u8(6 * 3 * 64)) })).toMatch(
      /x_train has shape \(6, 3, 8, 8\): channels first; expected N x H x W x C/,
    );
    expect(bad({ ...base, 'x_train.npy': npyBytes('|u1', [6, 64], u8(6 * 64)) })).toMatch(
      /x_train has shape \(6, 64\); expected N x H x W \(grey\)/,
    );
    expect(bad({ ...base, 'y_train.npy': npyBytes('|u1', [5], u8(5)) })).toMatch(
      /y_train has shape \(5\); expected \(6,\): one label per image of x_train/,
    );
    expect(
      bad({ ...base, 'y_train.npy': npyBytes('|i1', [6], new Uint8Array([0, 1, 255, 0, 1, 0])) }),
    ).toMatch(/y_train: label -1 at index 2; expected class numbers 0\.\.255/);
    expect(bad({ ...base, 'y_train.npy': npyBytes('<f8', [6], u8(48)) })).toMatch(
      /y_train: dtype f8 holds no integer class labels/,
    );
    expect(
      bad({
        ...base,
        'y_train.npy': npyBytes('|u1', [6], u8(6)),
        'y_test.npy': npyBytes('|u1', [4], u8(4)),
      }),
    ).toMatch(/every label is 0; a classifier needs at least 2 classes/);
    expect(
      bad({ ...base, 'y_train.npy': npyBytes('|u1', [6], new Uint8Array([0, 2, 0, 2, 0, 2])) }),
    ).toMatch(/y_train has no image of class\(es\) 1 \(labels go up to 2/);
    expect(bad({ ...base, 'x_test.npy': npyBytes('|u1', [4, 9, 9], u8(4 * 81)) })).toMatch(
      /x_train images are 8x8x1 but x_test images 9x9x1/,
    );
    expect(bad({ ...base, 'x_test.npy': npyBytes('|u1', [4, 8, 8], u8(10)) })).toMatch(
      /x_test: truncated: shape \(4, 8, 8\) needs 256 bytes of data, found 10/,
    );
    expect(bad(base, { ROBUST_NAS_MAX_DATA_MB: '0' })).toMatch(
      /over the limit of 0\.0 MB \(ROBUST_NAS_MAX_DATA_MB\)/,
    );
  });
});
