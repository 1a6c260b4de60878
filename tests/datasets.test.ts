import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create as createTar, Header as TarHeader, list as listTar } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/core/errors.js';
import { parseCifarBatch, readCifarBatch } from '../src/evaluator/datasets/cifar-reader.js';
import { downloadFile, md5File } from '../src/evaluator/datasets/download.js';
import { readIdxFile } from '../src/evaluator/datasets/idx-reader.js';
import { clearDatasetCache, loadDataset, readIdxPair } from '../src/evaluator/datasets/load.js';
import { dataRoots, locateDataset } from '../src/evaluator/datasets/locate.js';
import { CIFAR10, MNIST } from '../src/evaluator/datasets/registry.js';
import { makeSplits } from '../src/evaluator/datasets/subsets.js';
import { syntheticImages } from '../src/evaluator/datasets/synthetic.js';
import { extractTarGz } from '../src/evaluator/datasets/tar-extract.js';
import { realDataDir } from './helpers/datasets.js';

const DATA = realDataDir();
const scratch = mkdtempSync(join(tmpdir(), 'robust-nas-datasets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Loads with no folder configured but the given ones, so the bundled copy is what remains. */
const isolatedEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ROBUST_NAS_CACHE: join(scratch, 'empty-cache'),
  ...extra,
});

function expectInputError(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  for (const p of parts) expect((caught as Error).message).toMatch(p);
}

describe('IDX reader on real MNIST / Fashion-MNIST', () => {
  it('reads the full MNIST training set: 60000 images 28x28 with labels 0..9 in every class', async () => {
    clearDatasetCache();
    const data = await loadDataset('mnist', { env: isolatedEnv({ ROBUST_NAS_DATA: DATA }) });
    expect(data.source).toBe('env');
    expect(data.train.count).toBe(60_000);
    expect(data.test.count).toBe(10_000);
    expect(data.train.images.length).toBe(60_000 * 784);
    const counts = new Array(10).fill(0);
    for (const l of data.train.labels) counts[l]++;
    expect(Math.min(...counts)).toBeGreaterThan(5000);
    expect(data.train.images.reduce((m, v) => Math.max(m, v), 0)).toBe(255);
    // The official first training label is 5.
    expect(data.train.labels[0]).toBe(5);
  });

  it('reads Fashion-MNIST test files', () => {
    const set = readIdxPair(
      { ...MNIST, name: 'fashion-mnist', folder: 'fashion-mnist' },
      join(DATA, 'fashion-mnist'),
      'test',
    );
    expect(set.count).toBe(10_000);
    // Fashion-MNIST's test set is balanced: 1000 per class.
    const counts = new Array(10).fill(0);
    for (const l of set.labels) counts[l]++;
    expect(counts).toEqual(new Array(10).fill(1000));
  });

  it('uses the bundled MNIST test files when nothing else has MNIST, split 8000/2000', async () => {
    clearDatasetCache();
    const data = await loadDataset('mnist', { env: isolatedEnv(), download: false });
    expect(data.source).toBe('bundled');
    expect(data.train.count).toBe(8000);
    expect(data.test.count).toBe(2000);
    expect(data.notes.join(' ')).toMatch(/bundled/);
  });
});

describe('loaders reject truncated and corrupt files, naming the file', () => {
  const labels = readFileSync(join(DATA, 'mnist', 't10k-labels-idx1-ubyte.gz'));

  it('truncated gzip', () => {
    const file = join(scratch, 'truncated-labels.gz');
    writeFileSync(file, labels.subarray(0, labels.length - 100));
    expectInputError(() => readIdxFile(file), 'truncated-labels.gz', /gzip/);
  });

  it('garbage instead of gzip', () => {
    const file = join(scratch, 'garbage.gz');
    writeFileSync(file, Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expectInputError(() => readIdxFile(file), 'garbage.gz', /gzip/);
  });

  it('bad magic number', () => {
    const file = join(scratch, 'bad-magic.gz');
    const bytes = Buffer.from(readFileSync(join(DATA, 'mnist', 't10k-labels-idx1-ubyte.gz')));
    const plain = Buffer.from(execFileSync('gzip', ['-dc'], { input: bytes }));
    plain[2] = 0x0d; // float instead of unsigned byte
    writeFileSync(file, gzipSync(plain));
    expectInputError(() => readIdxFile(file), 'bad-magic.gz', /bad magic number/);
  });

  it('an IDX file whose data is shorter than its header says', () => {
    const file = join(scratch, 'short-idx.gz');
    const plain = Buffer.from(execFileSync('gzip', ['-dc'], { input: labels }));
    writeFileSync(file, gzipSync(plain.subarray(0, plain.length - 7)));
    expectInputError(() => readIdxFile(file), 'short-idx.gz', /wrong size/, /truncated/);
  });

  it('labels that do not match the images', () => {
    const folder = join(scratch, 'mismatch');
    mkdirSync(folder, { recursive: true });
    copyFileSync(
      join(DATA, 'mnist', 't10k-images-idx3-ubyte.gz'),
      join(folder, 't10k-images-idx3-ubyte.gz'),
    );
    const plain = Buffer.from(execFileSync('gzip', ['-dc'], { input: labels }));
    plain.writeUInt32BE(9999, 4);
    writeFileSync(join(folder, 't10k-labels-idx1-ubyte.gz'), gzipSync(plain.subarray(0, 8 + 9999)));
    expectInputError(
      () => readIdxPair(MNIST, folder, 'test'),
      't10k-labels-idx1-ubyte.gz',
      /9999 labels for 10000 images/,
    );
  });

  it('a truncated or corrupt CIFAR-10 batch', () => {
    const file = join(scratch, 'data_batch_9.bin');
    writeFileSync(file, Buffer.alloc(3073 * 10 - 5));
    expectInputError(
      () => readCifarBatch(file, 10_000),
      'data_batch_9.bin',
      /wrong size/,
      /truncated/,
    );
    const bad = Buffer.alloc(3073 * 2);
    bad[3073] = 12;
    expectInputError(() => parseCifarBatch(bad, 'bad.bin'), 'bad.bin', /label 12/);
  });

  it('a missing file', () => {
    expectInputError(() => readIdxFile(join(scratch, 'nope.gz')), 'nope.gz', /ENOENT/);
  });
});

describe('CIFAR-10 binary batches', () => {
  it('reads the training batches present and says how many', async () => {
    clearDatasetCache();
    const data = await loadDataset('cifar10', { env: isolatedEnv({ ROBUST_NAS_DATA: DATA }) });
    expect(data.train.count).toBe(10_000);
    expect(data.test.count).toBe(10_000);
    expect(data.notes.join(' ')).toMatch(/1 of 5 training batches/);
    expect([data.train.height, data.train.width, data.train.channels]).toEqual([32, 32, 3]);
    // Pixel (0,0) of the first test image, channels interleaved from the R, G, B planes.
    const rawTest = readFileSync(join(DATA, CIFAR10.folder, 'test_batch.bin'));
    expect(data.test.labels[0]).toBe(rawTest[0]);
    expect([...data.test.images.subarray(0, 3)]).toEqual([
      rawTest[1],
      rawTest[1 + 1024],
      rawTest[1 + 2048],
    ]);
    expect(data.test.images[3 * 33 + 2]).toBe(rawTest[1 + 2048 + 33]);
    clearDatasetCache();
  });
});

describe('search order', () => {
  it('--data-dir, then ROBUST_NAS_DATA, then the user cache', () => {
    const dirA = join(scratch, 'A');
    const dirB = join(scratch, 'B');
    const cache = join(scratch, 'cache');
    for (const d of [dirA, dirB, cache]) {
      mkdirSync(join(d, 'mnist'), { recursive: true });
    }
    const env = { ROBUST_NAS_DATA: dirB, ROBUST_NAS_CACHE: cache };
    expect(dataRoots(dirA, env).map((r) => r.source)).toEqual(['data-dir', 'env', 'cache']);
    const fill = (d: string): void => {
      for (const f of Object.values(MNIST.files)) writeFileSync(join(d, 'mnist', f.name), '');
    };
    expect(locateDataset(MNIST, dirA, env)).toBeUndefined();
    fill(cache);
    expect(locateDataset(MNIST, dirA, env)?.source).toBe('cache');
    fill(dirB);
    expect(locateDataset(MNIST, dirA, env)?.source).toBe('env');
    fill(dirA);
    expect(locateDataset(MNIST, dirA, env)?.folder).toBe(join(dirA, 'mnist'));
  });
});

describe('deterministic subsets', () => {
  it('same seed, same images; train and val disjoint; other seed, other images', async () => {
    clearDatasetCache();
    const data = await loadDataset('mnist', { env: isolatedEnv(), download: false });
    const sizes = { trainSize: 500, valSize: 200, testSize: 300 };
    const a = makeSplits(data, sizes, 7);
    const b = makeSplits(data, sizes, 7);
    const c = makeSplits(data, sizes, 8);
    expect(a.train.count).toBe(500);
    expect(a.val.count).toBe(200);
    expect(a.test.count).toBe(300);
    expect(Buffer.from(a.train.images).equals(Buffer.from(b.train.images))).toBe(true);
    expect(Buffer.from(a.test.labels).equals(Buffer.from(b.test.labels))).toBe(true);
    expect(Buffer.from(a.train.images).equals(Buffer.from(c.train.images))).toBe(false);
    const key = (imgs: Uint8Array, i: number): string =>
      createHash('md5')
        .update(imgs.subarray(i * 784, (i + 1) * 784))
        .digest('hex');
    const trainKeys = new Set(Array.from({ length: 500 }, (_, i) => key(a.train.images, i)));
    const overlap = Array.from({ length: 200 }, (_, i) => key(a.val.images, i)).filter((k) =>
      trainKeys.has(k),
    );
    expect(overlap.length).toBe(0);
  });

  it('asks for more images than the pool holds -> InputError naming the sizes', async () => {
    const data = await loadDataset('mnist', { env: isolatedEnv(), download: false });
    expectInputError(
      () => makeSplits(data, { trainSize: 8000, valSize: 1000, testSize: 10 }, 1),
      /train-size 8000 \+ val-size 1000/,
    );
  });

  it('synthetic images are reproducible and the first k do not depend on the pool size', () => {
    const a = syntheticImages('train', 50);
    const b = syntheticImages('train', 80);
    expect(Buffer.from(a.images).equals(Buffer.from(b.images.subarray(0, a.images.length)))).toBe(
      true,
    );
    expect(new Set(a.labels).size).toBeGreaterThan(5);
  });
});

describe('download (local http server on 127.0.0.1)', () => {
  let server: Server;
  let base = '';
  const body = readFileSync(join(DATA, 'mnist', 't10k-labels-idx1-ubyte.gz'));
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok/file.gz') {
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      } else if (req.url === '/cut/file.gz') {
        res.writeHead(200, { 'content-length': body.length });
        res.write(body.subarray(0, 1000));
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it('downloads, checks the md5 and renames into place, leaving no temporary file', async () => {
    const folder = join(scratch, 'dl-ok');
    const seen: number[] = [];
    const path = await downloadFile(
      {
        name: 'file.gz',
        urls: [`${base}/missing`, `${base}/ok/file.gz`],
        md5: MNIST.files.testLabels.md5,
      },
      folder,
      { onProgress: (r) => seen.push(r) },
    );
    expect(await md5File(path)).toBe(MNIST.files.testLabels.md5);
    expect(readdirSync(folder)).toEqual(['file.gz']);
    expect(seen.at(-1)).toBe(body.length);
  });

  it('a checksum mismatch is an InputError naming the file, and nothing is left', async () => {
    const folder = join(scratch, 'dl-bad');
    await expect(
      downloadFile({ name: 'file.gz', urls: [`${base}/ok/file.gz`], md5: '0'.repeat(32) }, folder),
    ).rejects.toThrow(/file\.gz: checksum mismatch/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('a connection cut mid-download leaves nothing under the real name', async () => {
    const folder = join(scratch, 'dl-cut');
    await expect(
      downloadFile(
        { name: 'file.gz', urls: [`${base}/cut/file.gz`], md5: MNIST.files.testLabels.md5 },
        folder,
      ),
    ).rejects.toThrow(/could not download file\.gz/);
    expect(readdirSync(folder)).toEqual([]);
  });
});

describe('tar.gz extraction (the CIFAR-10 archive format)', () => {
  const src = join(scratch, 'tar-src');
  const archive = join(scratch, 'a.tar.gz');
  const big = Buffer.alloc(3073 * 3 + 17, 7);
  /** A folder name past ustar's 100-character name field: node-tar writes a pax header for it. */
  const longDir = `cifar-10-batches-bin/${'deep-folder-name-'.repeat(8)}`;

  beforeAll(async () => {
    const batches = join(src, 'cifar-10-batches-bin');
    mkdirSync(join(src, longDir), { recursive: true });
    writeFileSync(join(batches, 'data_batch_1.bin'), big);
    writeFileSync(join(batches, 'readme.html'), 'hello');
    writeFileSync(join(batches, 'test_batch.bin'), Buffer.alloc(0));
    writeFileSync(join(src, longDir, 'data_batch_2.bin'), Buffer.from('long name member'));
    await createTar({ gzip: true, file: archive, cwd: src, portable: true }, [
      'cifar-10-batches-bin',
    ]);
  });

  it('extracts the wanted members, flattened, and nothing else (pax long names included)', async () => {
    const listed: string[] = [];
    await listTar({ file: archive, onReadEntry: (e) => void listed.push(e.path) });
    expect(listed.some((p) => p.length > 100 && p.endsWith('data_batch_2.bin'))).toBe(true);
    const out = join(scratch, 'tar-out');
    const names = await extractTarGz(archive, out, (n) => n.endsWith('.bin'));
    expect(names.sort()).toEqual(['data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']);
    expect(readFileSync(join(out, 'data_batch_1.bin')).equals(big)).toBe(true);
    expect(readFileSync(join(out, 'data_batch_2.bin'), 'utf8')).toBe('long name member');
    expect(readFileSync(join(out, 'test_batch.bin')).length).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'data_batch_1.bin',
      'data_batch_2.bin',
      'test_batch.bin',
    ]);
  });

  it('reads GNU long-name members (as GNU tar writes them)', async () => {
    const gnu = join(scratch, 'gnu.tar.gz');
    execFileSync('tar', ['--format=gnu', '-czf', gnu, '-C', src, 'cifar-10-batches-bin']);
    const out = join(scratch, 'tar-gnu');
    const names = await extractTarGz(gnu, out, (n) => n === 'data_batch_2.bin');
    expect(names).toEqual(['data_batch_2.bin']);
    expect(readFileSync(join(out, 'data_batch_2.bin'), 'utf8')).toBe('long name member');
  });

  it('never writes outside the folder: members named with .. or an absolute path are skipped', async () => {
    const payload = Buffer.from('escaped');
    const member = (path: string) => {
      const header = new TarHeader({ path, type: 'File', size: payload.length, mode: 0o644 });
      header.encode();
      return [header.block!, payload, Buffer.alloc(512 - payload.length)];
    };
    const evil = join(scratch, 'evil.tar.gz');
    writeFileSync(
      evil,
      gzipSync(
        Buffer.concat([
          ...member('../escaped.bin'),
          ...member('/tmp/absolute.bin'),
          ...member('ok/inside.bin'),
          Buffer.alloc(1024),
        ]),
      ),
    );
    const out = join(scratch, 'tar-evil', 'out');
    const names = await extractTarGz(evil, out, () => true);
    expect(names).toEqual(['inside.bin']);
    expect(readdirSync(out)).toEqual(['inside.bin']);
    expect(readdirSync(join(scratch, 'tar-evil'))).toEqual(['out']);
  });

  it('a truncated or foreign archive is an InputError naming it and leaves nothing behind', async () => {
    const cut = join(scratch, 'cut.tar.gz');
    const bytes = readFileSync(archive);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const out = join(scratch, 'tar-cut');
    await expect(extractTarGz(cut, out, () => true)).rejects.toThrow(
      new InputError(`${cut}: cannot unpack (zlib: unexpected end of file)`),
    );
    expect(readdirSync(out)).toEqual([]);
    const junk = join(scratch, 'junk.tar.gz');
    writeFileSync(junk, 'not an archive');
    await expect(extractTarGz(junk, out, () => true)).rejects.toThrow(
      /junk\.tar\.gz: cannot unpack \(TAR_BAD_ARCHIVE: Unrecognized archive format\)/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});
