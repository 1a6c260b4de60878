/**
 * The image data sets robust-nas knows: where their files live inside a data folder, where they are
 * downloaded from, their known md5 checksums, image shape, per-channel statistics (used by the
 * model's input normalisation) and the default attack budget used to tell architectures apart.
 */
import type { DatasetName, UserDatasetName } from '../../core/evaluation.js';

/** The data sets whose layout and statistics are known in advance (not the user's own). */
export type BuiltinDatasetName = Exclude<DatasetName, UserDatasetName>;
export type RealDatasetName = Exclude<BuiltinDatasetName, 'synthetic'>;

export interface RemoteFile {
  /** File name inside the data set's folder. */
  readonly name: string;
  /** Canonical URLs, tried in order. */
  readonly urls: readonly string[];
  readonly md5: string;
}

interface CommonSpec {
  readonly name: DatasetName;
  readonly title: string;
  /** [height, width, channels]. */
  readonly shape: readonly [number, number, number];
  readonly numClasses: number;
  /** Per-channel mean and standard deviation of the training images in [0, 1]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /**
   * Default L-infinity budget (pixel units) for the search's PGD objective: small enough that a
   * naturally trained network does not fall to 0% (MNIST/Fashion-MNIST 0.1, CIFAR-10 2/255).
   */
  readonly defaultEps: number;
}

export interface IdxDatasetSpec extends CommonSpec {
  readonly format: 'idx';
  readonly name: 'mnist' | 'fashion-mnist';
  /** Folder inside a data root (ROBUST_NAS_DATA layout). */
  readonly folder: string;
  readonly files: {
    readonly trainImages: RemoteFile;
    readonly trainLabels: RemoteFile;
    readonly testImages: RemoteFile;
    readonly testLabels: RemoteFile;
  };
}

export interface CifarDatasetSpec extends CommonSpec {
  readonly format: 'cifar';
  readonly name: 'cifar10';
  readonly folder: string;
  /** Training batches a complete copy has (a partial copy may hold only some). */
  readonly trainBatches: readonly string[];
  readonly testBatch: string;
  /** Records per batch file and bytes per record (1 label + 3072 pixels). */
  readonly recordsPerBatch: number;
  /** The archive that unpacks to `cifar-10-batches-bin/`. */
  readonly archive: RemoteFile;
}

export interface SyntheticDatasetSpec extends CommonSpec {
  readonly format: 'synthetic';
  readonly name: 'synthetic';
}

/**
 * The user's own images (`folder`, `npz`), described once read (user-data.ts): shape, classes and
 * per-channel statistics come from the files.
 */
export interface UserDatasetSpec extends CommonSpec {
  readonly format: 'folder' | 'npz';
  readonly name: UserDatasetName;
  /** Class names in label order: the sorted class folders, or '0', '1', ... for an npz. */
  readonly classNames: readonly string[];
  /** sha256 of the files' content (the data set's identity; see evalConfigSchema.dataChecksum). */
  readonly checksum: string;
}

export type BuiltinDatasetSpec = IdxDatasetSpec | CifarDatasetSpec | SyntheticDatasetSpec;
export type DatasetSpec = BuiltinDatasetSpec | UserDatasetSpec;

const MNIST_URLS = [
  'https://ossci-datasets.s3.amazonaws.com/mnist/',
  'https://storage.googleapis.com/cvdf-datasets/mnist/',
];
const FASHION_URLS = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'];

function remote(name: string, bases: readonly string[], md5: string): RemoteFile {
  return { name, urls: bases.map((b) => b + name), md5 };
}

export const MNIST: IdxDatasetSpec = {
  name: 'mnist',
  title: 'MNIST',
  format: 'idx',
  folder: 'mnist',
  shape: [28, 28, 1],
  numClasses: 10,
  mean: [0.1307],
  std: [0.3081],
  defaultEps: 0.1,
  files: {
    trainImages: remote(
      'train-images-idx3-ubyte.gz',
      MNIST_URLS,
      'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    ),
    trainLabels: remote(
      'train-labels-idx1-ubyte.gz',
      MNIST_URLS,
      'd53e105ee54ea40749a09fcbcd1e9432',
    ),
    testImages: remote('t10k-images-idx3-ubyte.gz', MNIST_URLS, '9fb629c4189551a2d022fa330f9573f3'),
    testLabels: remote('t10k-labels-idx1-ubyte.gz', MNIST_URLS, 'ec29112dd5afa0611ce80d1b7f02629c'),
  },
};

export const FASHION_MNIST: IdxDatasetSpec = {
  name: 'fashion-mnist',
  title: 'Fashion-MNIST',
  format: 'idx',
  folder: 'fashion-mnist',
  shape: [28, 28, 1],
  numClasses: 10,
  mean: [0.286],
  std: [0.353],
  defaultEps: 0.1,
  files: {
    trainImages: remote(
      'train-images-idx3-ubyte.gz',
      FASHION_URLS,
      '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    ),
    trainLabels: remote(
      'train-labels-idx1-ubyte.gz',
      FASHION_URLS,
      '25c81989df183df01b3e8a0aad5dffbe',
    ),
    testImages: remote(
      't10k-images-idx3-ubyte.gz',
      FASHION_URLS,
      'bef4ecab320f06d8554ea6380940ec79',
    ),
    testLabels: remote(
      't10k-labels-idx1-ubyte.gz',
      FASHION_URLS,
      'bb300cfdad3c16e7a12a480ee83cd310',
    ),
  },
};

export const CIFAR10: CifarDatasetSpec = {
  name: 'cifar10',
  title: 'CIFAR-10',
  format: 'cifar',
  folder: 'cifar-10/cifar-10-batches-bin',
  shape: [32, 32, 3],
  numClasses: 10,
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.247, 0.2435, 0.2616],
  defaultEps: 2 / 255,
  trainBatches: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
  testBatch: 'test_batch.bin',
  recordsPerBatch: 10_000,
  archive: {
    name: 'cifar-10-binary.tar.gz',
    urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'],
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  },
};

/** A small generated set (16x16 grey, 10 classes) for fast tests; no files. */
export const SYNTHETIC: SyntheticDatasetSpec = {
  name: 'synthetic',
  title: 'synthetic',
  format: 'synthetic',
  shape: [16, 16, 1],
  numClasses: 10,
  mean: [0.5],
  std: [0.25],
  defaultEps: 0.1,
};

export const DATASET_SPECS: Readonly<Record<BuiltinDatasetName, BuiltinDatasetSpec>> = {
  mnist: MNIST,
  'fashion-mnist': FASHION_MNIST,
  cifar10: CIFAR10,
  synthetic: SYNTHETIC,
};

export function datasetSpec(name: BuiltinDatasetName): BuiltinDatasetSpec {
  return DATASET_SPECS[name];
}
