/**
 * Loads a data set's training and test pools as bytes, from the first folder that has it (see
 * locate.ts), the bundled MNIST copy, or a download into the user cache. Loaded pools are kept in
 * memory for the life of the process (a search evaluates many candidates on the same data).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isUserDataset, type DatasetName } from '../../core/evaluation.js';
import { InputError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { readCifarBatch } from './cifar-reader.js';
import { downloadFile } from './download.js';
import { readIdxFile } from './idx-reader.js';
import { concatImages, selectImages, type ImageSet } from './image-set.js';
import { bundledDataDir, locateDataset, userCacheDir, type DataSource } from './locate.js';
import {
  datasetSpec,
  type CifarDatasetSpec,
  type DatasetSpec,
  type IdxDatasetSpec,
} from './registry.js';
import { syntheticImages } from './synthetic.js';
import { loadUserDataset } from './user-data.js';
import { extractTarGz } from './tar-extract.js';

export interface LoadedDataset {
  readonly spec: DatasetSpec;
  /** The pool training (and validation) subsets are drawn from. */
  readonly train: ImageSet;
  /** The pool test subsets are drawn from (final reports only). */
  readonly test: ImageSet;
  readonly source: DataSource | 'download' | 'generated';
  /** Folder the files were read from ('' for the synthetic set). */
  readonly folder: string;
  /** Remarks worth telling the user (e.g. how many CIFAR-10 training batches were found). */
  readonly notes: readonly string[];
}

export interface LoadOptions {
  /** The `--data-dir` folder, searched first. */
  readonly dataDir?: string;
  /** Allow downloading into the user cache when no folder has the files (default true). */
  readonly download?: boolean;
  /** Pool sizes of the synthetic set (default 6000 training, 1000 test images). */
  readonly syntheticSizes?: { readonly train: number; readonly test: number };
  readonly env?: NodeJS.ProcessEnv;
  /** The user's own data (`folder`, `npz`): the sha256 its content must have (a run's dataChecksum). */
  readonly expectedChecksum?: string;
}

/** Size of the bundled MNIST copy's test pool; the rest of the 10 000 images form the training pool. */
export const BUNDLED_TEST_POOL = 2000;

const cache = new Map<string, LoadedDataset>();

export async function loadDataset(
  name: DatasetName,
  options: LoadOptions = {},
): Promise<LoadedDataset> {
  if (isUserDataset(name)) {
    const data = loadUserDataset(name, options.dataDir, {
      ...(options.expectedChecksum !== undefined
        ? { expectedChecksum: options.expectedChecksum }
        : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    return {
      spec: data.spec,
      train: data.train,
      test: data.test,
      source: 'data-dir',
      folder: data.path,
      notes: data.notes,
    };
  }
  const spec = datasetSpec(name);
  if (spec.format === 'synthetic') {
    const sizes = options.syntheticSizes ?? { train: 6000, test: 1000 };
    return cached(`synthetic:${sizes.train}:${sizes.test}`, () => ({
      spec,
      train: syntheticImages('train', sizes.train),
      test: syntheticImages('test', sizes.test),
      source: 'generated',
      folder: '',
      notes: [],
    }));
  }
  const env = options.env ?? process.env;
  const found = locateDataset(spec, options.dataDir, env);
  if (found)
    return cached(`${spec.name}:${found.source}:${found.folder}`, () =>
      readFolder(spec, found.folder, found.source),
    );
  if (spec.format === 'idx' && spec.name === 'mnist') {
    const folder = join(bundledDataDir(), 'mnist');
    if (existsSync(join(folder, spec.files.testImages.name))) {
      return cached(`mnist:bundled:${folder}`, () => readBundledMnist(spec, folder));
    }
  }
  if (options.download === false) {
    throw new InputError(
      `${spec.title} not found in ${join(userCacheDir(env), spec.folder)} (no --data-dir or ROBUST_NAS_DATA named) and downloading is off`,
    );
  }
  const folder = join(userCacheDir(env), spec.folder);
  if (spec.format === 'idx') {
    for (const file of Object.values(spec.files)) {
      if (!existsSync(join(folder, file.name))) await downloadFile(file, folder);
    }
  } else {
    const archiveFolder = join(userCacheDir(env), 'cifar-10');
    const archive = await downloadFile(spec.archive, archiveFolder);
    const wanted = new Set([...spec.trainBatches, spec.testBatch, 'batches.meta.txt']);
    await extractTarGz(archive, folder, (n) => wanted.has(n));
  }
  return cached(`${spec.name}:${folder}`, () => readFolder(spec, folder, 'download'));
}

function cached(key: string, load: () => LoadedDataset): LoadedDataset {
  const hit = cache.get(key);
  if (hit) return hit;
  const loaded = load();
  cache.set(key, loaded);
  return loaded;
}

/** Forgets the in-memory copies (tests). */
export function clearDatasetCache(): void {
  cache.clear();
}

function readFolder(
  spec: IdxDatasetSpec | CifarDatasetSpec,
  folder: string,
  source: LoadedDataset['source'],
): LoadedDataset {
  if (spec.format === 'idx') {
    return {
      spec,
      train: readIdxPair(spec, folder, 'train'),
      test: readIdxPair(spec, folder, 'test'),
      source,
      folder,
      notes: [],
    };
  }
  const present = spec.trainBatches.filter((n) => existsSync(join(folder, n)));
  const batches = present.map((n) => readCifarBatch(join(folder, n), spec.recordsPerBatch));
  const train = concatImages(batches);
  const test = readCifarBatch(join(folder, spec.testBatch), spec.recordsPerBatch);
  const notes =
    present.length < spec.trainBatches.length
      ? [
          `CIFAR-10: ${present.length} of ${spec.trainBatches.length} training batches found in ${folder} (${train.count} training images)`,
        ]
      : [];
  [...batches, test].forEach((set, i) => {
    if (set.count < spec.recordsPerBatch) {
      const name = present[i] ?? spec.testBatch;
      notes.push(
        `CIFAR-10: ${name} in ${folder} holds ${set.count} of ${spec.recordsPerBatch} records (a partial batch)`,
      );
    }
  });
  return { spec, train, test, source, folder, notes };
}

/** Reads one images/labels pair of an IDX data set and checks they agree. */
export function readIdxPair(
  spec: IdxDatasetSpec,
  folder: string,
  split: 'train' | 'test',
): ImageSet {
  const imagesFile = split === 'train' ? spec.files.trainImages : spec.files.testImages;
  const labelsFile = split === 'train' ? spec.files.trainLabels : spec.files.testLabels;
  const imagesPath = join(folder, imagesFile.name);
  const labelsPath = join(folder, labelsFile.name);
  const images = readIdxFile(imagesPath, 3);
  const labels = readIdxFile(labelsPath, 1);
  const [count, height, width] = images.dims as [number, number, number];
  if (height !== spec.shape[0] || width !== spec.shape[1]) {
    throw new InputError(
      `${imagesPath}: images are ${height}x${width}, expected ${spec.shape[0]}x${spec.shape[1]}`,
    );
  }
  if (labels.dims[0] !== count) {
    throw new InputError(
      `${labelsPath}: ${labels.dims[0]} labels for ${count} images in ${imagesFile.name}`,
    );
  }
  const bad = labels.data.findIndex((l) => l >= spec.numClasses);
  if (bad >= 0) {
    throw new InputError(
      `${labelsPath}: corrupt: label ${labels.data[bad]} at index ${bad}, expected 0..${spec.numClasses - 1}`,
    );
  }
  return { images: images.data, labels: labels.data, count, height, width, channels: 1 };
}

/**
 * The bundled default: MNIST's official 10 000 test images, split by a fixed seeded permutation into
 * an 8000-image training pool and a 2000-image test pool.
 */
function readBundledMnist(spec: IdxDatasetSpec, folder: string): LoadedDataset {
  const all = readIdxPair(spec, folder, 'test');
  const order = Rng.fromSeed('robust-nas bundled mnist split').shuffle(
    Array.from({ length: all.count }, (_, i) => i),
  );
  const trainCount = all.count - BUNDLED_TEST_POOL;
  return {
    spec,
    train: selectImages(all, order.slice(0, trainCount)),
    test: selectImages(all, order.slice(trainCount)),
    source: 'bundled',
    folder,
    notes: [
      `MNIST: using the bundled copy of the official test set (${trainCount} training + ${BUNDLED_TEST_POOL} test images); set ROBUST_NAS_DATA or --data-dir for the full set`,
    ],
  };
}
