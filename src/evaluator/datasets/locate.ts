/**
 * Where a data set's files are looked for:
 *   1. a folder the user named: the `--data-dir` folder (config.dataDir), else the folder named by
 *      the environment variable ROBUST_NAS_DATA. Either may be a data root (mnist/, fashion-mnist/,
 *      cifar-10/cifar-10-batches-bin/) or the data set's own folder. A named folder that does not
 *      hold the data set is an error (InputError), never a silent fall back to other data;
 *   2. otherwise the user cache (ROBUST_NAS_CACHE, else $XDG_CACHE_HOME/robust-nas, else
 *      ~/.cache/robust-nas), laid out as a data root.
 * When nothing was named and the cache lacks it, MNIST comes from the bundled copy of the official
 * test files (data/mnist in the package), so the tool works offline; other sets are downloaded into
 * the user cache.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../core/errors.js';
import { isUserDataset, type DatasetName } from '../../core/evaluation.js';
import { datasetSpec, type CifarDatasetSpec, type IdxDatasetSpec } from './registry.js';
import { checkUserDataPath } from './user-data.js';

export type DataSource = 'data-dir' | 'env' | 'cache' | 'bundled';

export interface DataRoot {
  readonly root: string;
  readonly source: DataSource;
}

/** The user cache folder that downloads go to. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ROBUST_NAS_CACHE) return resolve(env.ROBUST_NAS_CACHE);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'robust-nas');
}

/** The package's bundled data folder (data/ next to src/ and dist/). */
export function bundledDataDir(): string {
  return fileURLToPath(new URL('../../../data', import.meta.url));
}

/** The names of the files a complete IDX data set needs. */
export function idxFileNames(spec: IdxDatasetSpec): string[] {
  const f = spec.files;
  return [f.trainImages.name, f.trainLabels.name, f.testImages.name, f.testLabels.name];
}

/** True when `folder` holds every file of an IDX data set. */
export function hasIdxFiles(folder: string, spec: IdxDatasetSpec): boolean {
  return idxFileNames(spec).every((name) => existsSync(join(folder, name)));
}

/** True when `folder` holds CIFAR-10's test batch and at least one training batch. */
export function hasCifarFiles(folder: string, spec: CifarDatasetSpec): boolean {
  return (
    existsSync(join(folder, spec.testBatch)) &&
    spec.trainBatches.some((name) => existsSync(join(folder, name)))
  );
}

export interface NamedDataFolder extends DataRoot {
  readonly source: 'data-dir' | 'env';
  /** The folder that holds the data set's files. */
  readonly folder: string;
}

export interface NamedDataOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** How to name `dataDir` in an error (default 'data folder'; e.g. '--data-dir', 'evaluation.dataDir'). */
  readonly label?: string;
}

/**
 * The folder holding `dataset`'s files among those the user named: `dataDir` when given, else
 * ROBUST_NAS_DATA when set; undefined when neither is (or for the generated synthetic set, which
 * reads no folder). The user's own data sets (`folder`, `npz`) need `dataDir` and are checked by
 * checkUserDataPath (user-data.ts). A named folder may be a data root or the data set's own folder; one that is not
 * there or does not hold the data set is an InputError, on one line naming the folder and the files
 * looked for.
 */
export function resolveNamedDataDir(
  dataset: DatasetName,
  dataDir?: string,
  options: NamedDataOptions = {},
): NamedDataFolder | undefined {
  const env = options.env ?? process.env;
  if (isUserDataset(dataset)) {
    // The user's own images: only the path named for them (never ROBUST_NAS_DATA's data root).
    const path = checkUserDataPath(dataset, dataDir, options.label ?? 'data folder');
    return { root: path, source: 'data-dir', folder: path };
  }
  const named =
    dataDir !== undefined
      ? { dir: dataDir, source: 'data-dir' as const, label: options.label ?? 'data folder' }
      : env.ROBUST_NAS_DATA
        ? { dir: env.ROBUST_NAS_DATA, source: 'env' as const, label: 'ROBUST_NAS_DATA' }
        : undefined;
  if (!named) return undefined;
  const spec = datasetSpec(dataset);
  const root = resolve(named.dir);
  if (spec.format === 'synthetic') {
    if (named.source === 'env') return undefined;
    throw new InputError(
      `${named.label} ${root}: the synthetic data set is generated and reads no folder`,
    );
  }
  const candidates = candidateFolders(spec, root);
  const holds = (folder: string): boolean =>
    spec.format === 'idx' ? hasIdxFiles(folder, spec) : hasCifarFiles(folder, spec);
  if (isDir(root)) {
    const folder = candidates.find(holds);
    if (folder) return { root, source: named.source, folder };
  }
  const problem = !existsSync(root)
    ? 'does not exist'
    : !isDir(root)
      ? 'is not a folder'
      : `holds no ${spec.title}`;
  const present = candidates.filter(isDir);
  const partial = present
    .map((c) => ({ c, missing: missingFiles(spec, c) }))
    .find((p) => p.missing.length < wantedFiles(spec).length);
  throw new InputError(
    `${named.label} ${root} ${problem}: looked for ${spec.title}'s ${wantedFiles(spec).join(', ')} in ${candidates.slice(0, -1).join(', ')} or ${candidates.at(-1)}` +
      (partial ? ` (${partial.c} lacks ${partial.missing.join(', ')})` : ''),
  );
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // missing, or a path through a file (ENOTDIR)
  }
}

/** Where in a named folder a data set's files may be: the root layout, then its own folder. */
function candidateFolders(spec: IdxDatasetSpec | CifarDatasetSpec, root: string): string[] {
  const folders = [join(root, spec.folder)];
  // CIFAR-10's own folder may be cifar-10/ (holding the archive's cifar-10-batches-bin/) or that one.
  if (spec.format === 'cifar') folders.push(join(root, 'cifar-10-batches-bin'));
  folders.push(root);
  return folders;
}

/** The files an error names: every IDX file; CIFAR-10's test batch and one training batch. */
function wantedFiles(spec: IdxDatasetSpec | CifarDatasetSpec): string[] {
  return spec.format === 'idx'
    ? idxFileNames(spec)
    : [spec.testBatch, `one of ${spec.trainBatches.join(', ')}`];
}

function missingFiles(spec: IdxDatasetSpec | CifarDatasetSpec, folder: string): string[] {
  if (spec.format === 'idx') return idxFileNames(spec).filter((n) => !existsSync(join(folder, n)));
  const missing: string[] = [];
  if (!existsSync(join(folder, spec.testBatch))) missing.push(spec.testBatch);
  if (!spec.trainBatches.some((n) => existsSync(join(folder, n)))) {
    missing.push(`one of ${spec.trainBatches.join(', ')}`);
  }
  return missing;
}

/**
 * The folder to read a data set from: the named one (see {@link resolveNamedDataDir}, which throws
 * when it lacks the data set), else the user cache when it holds the files, else undefined.
 */
export function locateDataset(
  spec: IdxDatasetSpec | CifarDatasetSpec,
  dataDir?: string,
  env: NodeJS.ProcessEnv = process.env,
): (DataRoot & { folder: string }) | undefined {
  const named = resolveNamedDataDir(spec.name, dataDir, { env });
  if (named) return named;
  const root = userCacheDir(env);
  const folder = join(root, spec.folder);
  const found = spec.format === 'idx' ? hasIdxFiles(folder, spec) : hasCifarFiles(folder, spec);
  return found ? { root, source: 'cache', folder } : undefined;
}
