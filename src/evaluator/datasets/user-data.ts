/**
 * The user's own images, read from the path `dataDir` names:
 *
 *   - `folder`: torchvision's ImageFolder layout, `DIR/train/<class>/**.png|jpg|jpeg` and
 *     `DIR/test/<class>/...`. Classes are the train folder's subfolders sorted as torchvision sorts
 *     them (by code point), label i for the i-th; the test folder must hold the same classes. Files
 *     are found recursively in a class folder (sorted); other files (.txt, .DS_Store) are skipped and
 *     counted, images in formats other than PNG and JPEG are an error naming the file.
 *   - `npz`: NumPy's .npz as Keras's mnist.npz holds it: `x_train`, `y_train`, `x_test`, `y_test`;
 *     images uint8 N x H x W (grey) or N x H x W x C (C = 1 or 3), labels integers 0..K-1, N or N x 1.
 *
 * Both are checked as the built-in sets are (every image the same size, at least two classes,
 * labels in range, 8-bit pixel values, images and labels that agree), each error an InputError on one
 * line naming the file. Sizes are bounded: at most MAX_USER_IMAGES images and the limit of
 * {@link userDataByteLimit} on the bytes read and held. Images whose channels are all equal everywhere
 * make a one-channel (grey) set, others RGB (alpha is dropped, as torchvision's RGB loader does).
 * The set's identity is the sha256 of its content ({@link UserDatasetSpec.checksum}); its
 * per-channel mean and standard deviation (the model's input normalisation) come from the training
 * images.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DEFAULT_SEARCH_EPS } from '../../core/objectives.js';
import { InputError } from '../../core/errors.js';
import { isUserDataset, type DatasetName, type UserDatasetName } from '../../core/evaluation.js';
import type { ImageSet } from './image-set.js';
import { readNpy, npyIntegers, type NpyArray } from './npy-reader.js';
import { datasetSpec, type UserDatasetSpec } from './registry.js';
import { zipEntries, zipEntryData } from './zip-reader.js';

/** Most images (training and test together) a user's data set may hold. */
export const MAX_USER_IMAGES = 500_000;
/** Largest image side accepted (decoding a larger one is refused before it starts). */
export const MAX_IMAGE_SIDE = 1024;
/** Most classes (labels are stored as bytes). */
export const MAX_CLASSES = 256;
const DEFAULT_MAX_DATA_MB = 2048;

/**
 * Most bytes read from the user's files and most held as pixels: ROBUST_NAS_MAX_DATA_MB (MB), else
 * 2048 MB.
 */
export function userDataByteLimit(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.ROBUST_NAS_MAX_DATA_MB;
  const mb = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : DEFAULT_MAX_DATA_MB;
  return mb * 1024 * 1024;
}

export interface UserDataset {
  readonly spec: UserDatasetSpec;
  readonly train: ImageSet;
  readonly test: ImageSet;
  /** The folder or file read (absolute). */
  readonly path: string;
  readonly notes: readonly string[];
}

/** Extensions torchvision's ImageFolder takes as images; those not decoded here are an error. */
const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.ppm',
  '.bmp',
  '.pgm',
  '.tif',
  '.tiff',
  '.webp',
]);
const DECODED = new Set(['.png', '.jpg', '.jpeg']);

/** Sorting as Python's sorted() does for strings: by code point. */
export function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) as number);
  const y = [...b].map((c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  }
  return x.length - y.length;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The data a `folder` or `npz` set reads: checked to be there and of the right kind, not read. */
export function checkUserDataPath(
  name: UserDatasetName,
  dataDir: string | undefined,
  label = '--data-dir',
): string {
  if (dataDir === undefined) {
    throw new InputError(
      name === 'folder'
        ? "data set 'folder' needs a data folder: --data-dir DIR (or evaluation.dataDir) holding train/<class>/ and test/<class>/ images"
        : "data set 'npz' needs a file: --data-dir FILE.npz (or evaluation.dataDir) holding x_train, y_train, x_test, y_test",
    );
  }
  const path = resolve(dataDir);
  const st = statOf(path);
  if (!st) throw new InputError(`${label} ${path} does not exist`);
  if (name === 'npz') {
    if (!st.isFile())
      throw new InputError(`${label} ${path} is not a file (--dataset npz reads a .npz file)`);
    return path;
  }
  if (!st.isDirectory()) {
    throw new InputError(
      `${label} ${path} is not a folder (--dataset folder reads DIR/train/<class>/ and DIR/test/<class>/)`,
    );
  }
  const missing = ['train', 'test'].filter((s) => !statOf(join(path, s))?.isDirectory());
  if (missing.length > 0) {
    throw new InputError(
      `${label} ${path} lacks ${missing.map((m) => `${m}/`).join(' and ')}: --dataset folder reads DIR/train/<class>/*.png|jpg and DIR/test/<class>/*.png|jpg`,
    );
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// Folder (ImageFolder)

interface ImageFile {
  readonly path: string;
  readonly label: number;
  readonly size: number;
}

/** The sorted subfolders of `dir` (symbolic links followed). */
function subfolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => statOf(join(dir, n))?.isDirectory())
    .sort(byCodePoint);
}

/** Every file under `dir`, recursively, in sorted order; `skipped` counts what is not an image. */
function filesUnder(dir: string, skipped: { count: number }): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  for (const name of readdirSync(dir).sort(byCodePoint)) {
    const path = join(dir, name);
    const st = statOf(path);
    if (!st) continue;
    if (st.isDirectory()) {
      out.push(...filesUnder(path, skipped));
    } else if (st.isFile()) {
      const ext = extname(name).toLowerCase();
      if (!IMAGE_EXTENSIONS.has(ext) || name.startsWith('.')) {
        skipped.count++;
        continue;
      }
      if (!DECODED.has(ext)) {
        throw new InputError(
          `${path}: ${ext} images are not supported; convert them to PNG or JPEG`,
        );
      }
      out.push({ path, size: st.size });
    }
  }
  return out;
}

interface FolderListing {
  readonly classes: string[];
  readonly train: ImageFile[];
  readonly test: ImageFile[];
  readonly skipped: number;
}

function listFolder(root: string): FolderListing {
  const trainDir = join(root, 'train');
  const testDir = join(root, 'test');
  const classes = subfolders(trainDir);
  if (classes.length < 2) {
    throw new InputError(
      `${trainDir}: ${classes.length === 0 ? 'no class folders' : `one class folder (${classes[0]})`}; --dataset folder needs train/<class>/ for at least 2 classes`,
    );
  }
  if (classes.length > MAX_CLASSES) {
    throw new InputError(`${trainDir}: ${classes.length} class folders, at most ${MAX_CLASSES}`);
  }
  const testClasses = subfolders(testDir);
  const extra = testClasses.filter((c) => !classes.includes(c));
  if (extra.length > 0) {
    throw new InputError(
      `${testDir}: class folder(s) ${extra.join(', ')} not in ${trainDir} (the test classes must be the training classes)`,
    );
  }
  const skipped = { count: 0 };
  const list = (dir: string): ImageFile[] =>
    classes.flatMap((c, label) => {
      const classDir = join(dir, c);
      if (!statOf(classDir)?.isDirectory()) return [];
      return filesUnder(classDir, skipped).map((f) => ({ ...f, label }));
    });
  const train = list(trainDir);
  const test = list(testDir);
  const empty = classes.filter((_, label) => !train.some((f) => f.label === label));
  if (empty.length > 0) {
    throw new InputError(
      `${trainDir}: no PNG or JPEG images in class folder(s) ${empty.join(', ')}`,
    );
  }
  if (test.length === 0) throw new InputError(`${testDir}: no PNG or JPEG images`);
  return { classes, train, test, skipped: skipped.count };
}

/** What identifies a folder's content without reading it: names, sizes and modification times. */
function folderSignature(root: string, listing: FolderListing): string {
  const h = createHash('sha256');
  for (const f of [...listing.train, ...listing.test]) {
    const st = statSync(f.path);
    h.update(`${relative(root, f.path)}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex');
}

interface Decoded {
  readonly width: number;
  readonly height: number;
  /** RGBA, 8 bits per channel. */
  readonly rgba: Uint8Array;
}

function decodeImage(path: string, bytes: Buffer): Decoded {
  const isPng = bytes.length >= 8 && bytes.readUInt32BE(0) === 0x89504e47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (isPng) {
    const width = bytes.length >= 24 ? bytes.readUInt32BE(16) : 0;
    const height = bytes.length >= 24 ? bytes.readUInt32BE(20) : 0;
    if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
      throw new InputError(
        `${path}: ${height}x${width} pixels, larger than ${MAX_IMAGE_SIDE} on a side`,
      );
    }
    try {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    } catch (err) {
      throw new InputError(`${path}: not a readable PNG (${(err as Error).message})`);
    }
  }
  if (isJpeg) {
    try {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: (MAX_IMAGE_SIDE * MAX_IMAGE_SIDE) / 1e6,
        maxMemoryUsageInMB: 64,
      });
      return { width: img.width, height: img.height, rgba: img.data };
    } catch (err) {
      throw new InputError(`${path}: not a readable JPEG (${(err as Error).message})`);
    }
  }
  throw new InputError(`${path}: neither PNG nor JPEG data (whatever its extension says)`);
}

function readFolder(root: string, listing: FolderListing, limit: number): UserDataset {
  const all = [...listing.train, ...listing.test];
  if (all.length > MAX_USER_IMAGES) {
    throw new InputError(`${root}: ${all.length} images, more than the ${MAX_USER_IMAGES} allowed`);
  }
  const fileBytes = all.reduce((n, f) => n + f.size, 0);
  if (fileBytes > limit) {
    throw new InputError(
      `${root}: ${mb(fileBytes)} of images, over the limit of ${mb(limit)} (ROBUST_NAS_MAX_DATA_MB)`,
    );
  }
  const hash = createHash('sha256');
  let shape: { width: number; height: number; first: string } | undefined;
  let rgb = new Uint8Array(0);
  let grey = true;
  all.forEach((f, i) => {
    const bytes = readFileSync(f.path);
    hash.update(`${relative(root, f.path).split(sep).join('/')}\0${bytes.length}\0`);
    hash.update(bytes);
    const img = decodeImage(f.path, bytes);
    if (!shape) {
      shape = { width: img.width, height: img.height, first: f.path };
      const pixels = all.length * img.width * img.height * 3;
      if (pixels > limit) {
        throw new InputError(
          `${root}: ${all.length} images of ${img.height}x${img.width} need ${mb(pixels)} as pixels, over the limit of ${mb(limit)} (ROBUST_NAS_MAX_DATA_MB)`,
        );
      }
      rgb = new Uint8Array(pixels);
    } else if (img.width !== shape.width || img.height !== shape.height) {
      throw new InputError(
        `${f.path}: ${img.height}x${img.width} pixels, but ${shape.first} is ${shape.height}x${shape.width}: all images must be the same size (resize them first)`,
      );
    }
    const n = img.width * img.height;
    const out = i * n * 3;
    for (let p = 0; p < n; p++) {
      const r = img.rgba[4 * p] as number;
      const g = img.rgba[4 * p + 1] as number;
      const b = img.rgba[4 * p + 2] as number;
      rgb[out + 3 * p] = r;
      rgb[out + 3 * p + 1] = g;
      rgb[out + 3 * p + 2] = b;
      if (grey && (r !== g || g !== b)) grey = false;
    }
  });
  const { width, height } = shape as { width: number; height: number };
  const channels = grey ? 1 : 3;
  const images = channels === 3 ? rgb : greyOf(rgb);
  const size = height * width * channels;
  const labels = Uint8Array.from(all.map((f) => f.label));
  const split = (from: number, count: number): ImageSet => ({
    images: images.subarray(from * size, (from + count) * size),
    labels: labels.subarray(from, from + count),
    count,
    height,
    width,
    channels,
  });
  const train = split(0, listing.train.length);
  const test = split(listing.train.length, listing.test.length);
  const notes = [
    `folder ${root}: ${listing.classes.length} classes (${preview(listing.classes)}), ${train.count} training and ${test.count} test images of ${height}x${width}x${channels}`,
  ];
  if (listing.skipped > 0)
    notes.push(`folder ${root}: skipped ${listing.skipped} files that are not images`);
  return {
    spec: userSpec('folder', root, listing.classes, train, hash.digest('hex')),
    train,
    test,
    path: root,
    notes,
  };
}

function greyOf(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = rgb[3 * i] as number;
  return out;
}

// ---------------------------------------------------------------------------------------------
// npz (Keras mnist.npz layout)

const NPZ_KEYS = ['x_train', 'y_train', 'x_test', 'y_test'] as const;

function readNpzFile(path: string, limit: number): UserDataset {
  const size = statSync(path).size;
  if (size > limit) {
    throw new InputError(
      `${path}: ${mb(size)}, over the limit of ${mb(limit)} (ROBUST_NAS_MAX_DATA_MB)`,
    );
  }
  const buf = readFileSync(path);
  const checksum = createHash('sha256').update(buf).digest('hex');
  const entries = zipEntries(buf, path);
  const arrays = {} as Record<(typeof NPZ_KEYS)[number], NpyArray>;
  let held = 0;
  for (const key of NPZ_KEYS) {
    const entry = entries.find((e) => e.name === `${key}.npy` || e.name === key);
    if (!entry) {
      throw new InputError(
        `${path}: no ${key} array (found ${entries.map((e) => e.name.replace(/\.npy$/, '')).join(', ') || 'none'}; expected x_train, y_train, x_test, y_test as in Keras's mnist.npz)`,
      );
    }
    held += entry.size;
    if (held > limit) {
      throw new InputError(
        `${path}: its arrays hold more than ${mb(limit)} (ROBUST_NAS_MAX_DATA_MB)`,
      );
    }
    arrays[key] = readNpy(zipEntryData(buf, entry, path, limit), `${path}: ${key}`);
  }
  const pool = (split: 'train' | 'test') => {
    const x = arrays[`x_${split}`];
    const y = arrays[`y_${split}`];
    const xl = `${path}: x_${split}`;
    const yl = `${path}: y_${split}`;
    if (x.dtype !== 'u1') {
      throw new InputError(
        `${xl} has dtype ${x.dtype}; expected uint8 pixels 0..255 (e.g. (x * 255).round().astype(np.uint8))`,
      );
    }
    const s = x.shape;
    if (s.length === 4 && (s[1] === 1 || s[1] === 3) && s[3] !== 1 && s[3] !== 3) {
      throw new InputError(
        `${xl} has shape (${s.join(', ')}): channels first; expected N x H x W x C (x.transpose(0, 2, 3, 1))`,
      );
    }
    if (!(s.length === 3 || (s.length === 4 && (s[3] === 1 || s[3] === 3)))) {
      throw new InputError(
        `${xl} has shape (${s.join(', ')}); expected N x H x W (grey) or N x H x W x C with C 1 or 3`,
      );
    }
    const [count, height, width] = s as [number, number, number];
    const channels = s.length === 4 ? (s[3] as number) : 1;
    if (count === 0 || height === 0 || width === 0) throw new InputError(`${xl} holds no images`);
    const ys = y.shape;
    if (!(ys.length === 1 || (ys.length === 2 && ys[1] === 1)) || ys[0] !== count) {
      throw new InputError(
        `${yl} has shape (${ys.join(', ')}); expected (${count},): one label per image of x_${split}`,
      );
    }
    const values = npyIntegers(y, yl);
    const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= MAX_CLASSES);
    if (bad >= 0) {
      throw new InputError(
        `${yl}: label ${values[bad]} at index ${bad}; expected class numbers 0..${MAX_CLASSES - 1}`,
      );
    }
    return {
      set: {
        images: new Uint8Array(x.bytes),
        labels: Uint8Array.from(values),
        count,
        height,
        width,
        channels,
      } satisfies ImageSet,
      maxLabel: values.reduce((m, v) => Math.max(m, v), 0),
    };
  };
  const train = pool('train');
  const test = pool('test');
  const a = train.set;
  const b = test.set;
  if (a.height !== b.height || a.width !== b.width || a.channels !== b.channels) {
    throw new InputError(
      `${path}: x_train images are ${a.height}x${a.width}x${a.channels} but x_test images ${b.height}x${b.width}x${b.channels}`,
    );
  }
  if (a.count + b.count > MAX_USER_IMAGES) {
    throw new InputError(
      `${path}: ${a.count + b.count} images, more than the ${MAX_USER_IMAGES} allowed`,
    );
  }
  const numClasses = Math.max(train.maxLabel, test.maxLabel) + 1;
  if (numClasses < 2) {
    throw new InputError(`${path}: every label is 0; a classifier needs at least 2 classes`);
  }
  const missing = Array.from({ length: numClasses }, (_, c) => c).filter(
    (c) => !a.labels.includes(c),
  );
  if (missing.length > 0) {
    throw new InputError(
      `${path}: y_train has no image of class(es) ${preview(missing.map(String))} (labels go up to ${numClasses - 1}: classes must be numbered 0..K-1)`,
    );
  }
  const classNames = Array.from({ length: numClasses }, (_, c) => String(c));
  return {
    spec: userSpec('npz', path, classNames, a, checksum),
    train: a,
    test: b,
    path,
    notes: [
      `npz ${path}: ${numClasses} classes, ${a.count} training and ${b.count} test images of ${a.height}x${a.width}x${a.channels}`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------

function userSpec(
  name: UserDatasetName,
  path: string,
  classNames: readonly string[],
  train: ImageSet,
  checksum: string,
): UserDatasetSpec {
  const { mean, std } = channelStats(train);
  return {
    name,
    format: name,
    title: `${name} ${path}`,
    shape: [train.height, train.width, train.channels],
    numClasses: classNames.length,
    classNames,
    mean,
    std,
    defaultEps: DEFAULT_SEARCH_EPS[name],
    checksum,
  };
}

/** Per-channel mean and standard deviation of a set's pixels in [0, 1] (std at least 1/255). */
export function channelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const c = set.channels;
  const sum = new Float64Array(c);
  const squares = new Float64Array(c);
  for (let i = 0; i < set.images.length; i++) {
    const v = (set.images[i] as number) / 255;
    sum[i % c] = (sum[i % c] as number) + v;
    squares[i % c] = (squares[i % c] as number) + v * v;
  }
  const n = set.images.length / c;
  const mean = Array.from(sum, (s) => s / n);
  const std = Array.from(squares, (q, k) =>
    Math.max(1 / 255, Math.sqrt(Math.max(0, q / n - (mean[k] as number) ** 2))),
  );
  return { mean, std };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function preview(names: readonly string[]): string {
  return names.length <= 6
    ? names.join(', ')
    : `${names.slice(0, 5).join(', ')}, ... ${names.at(-1)}`;
}

const cache = new Map<string, UserDataset>();

/**
 * Reads (or takes from memory: the same path with unchanged files) a `folder` or `npz` set. With
 * `expectedChecksum` (a run's evaluation.dataChecksum), files whose content changed since are an
 * InputError naming the path.
 */
export function loadUserDataset(
  name: UserDatasetName,
  dataDir: string | undefined,
  options: {
    readonly expectedChecksum?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly label?: string;
  } = {},
): UserDataset {
  const path = checkUserDataPath(name, dataDir, options.label);
  const limit = userDataByteLimit(options.env);
  let key: string;
  let read: () => UserDataset;
  if (name === 'folder') {
    const listing = listFolder(path);
    key = `folder:${path}:${folderSignature(path, listing)}`;
    read = () => readFolder(path, listing, limit);
  } else {
    const st = statSync(path);
    key = `npz:${path}:${st.size}:${st.mtimeMs}`;
    read = () => readNpzFile(path, limit);
  }
  let data = cache.get(key);
  if (!data) {
    data = read();
    for (const k of cache.keys()) if (k.startsWith(`${name}:${path}:`)) cache.delete(k);
    cache.set(key, data);
  }
  if (options.expectedChecksum !== undefined && options.expectedChecksum !== data.spec.checksum) {
    throw new InputError(
      `${path}: the data changed since this run was created (sha256 now ${data.spec.checksum.slice(0, 12)}..., recorded ${options.expectedChecksum.slice(0, 12)}...); restore it or start a new run`,
    );
  }
  return data;
}

/** Forgets the in-memory copies (tests). */
export function clearUserDataCache(): void {
  cache.clear();
}

/**
 * The input shape and class count of a data set: the registry's for a built-in one; read from the
 * files (and kept in memory) for the user's own, so a memory estimate sees the real network.
 */
export function datasetGeometry(
  dataset: DatasetName,
  dataDir?: string,
): { readonly shape: readonly [number, number, number]; readonly numClasses: number } {
  if (isUserDataset(dataset)) return loadUserDataset(dataset, dataDir).spec;
  return datasetSpec(dataset);
}
