/**
 * Where a data set's files are looked for, in order:
 *   1. the `--data-dir` folder (config.dataDir),
 *   2. the folder named by the environment variable ROBUST_NAS_DATA,
 *   3. the user cache (ROBUST_NAS_CACHE, else $XDG_CACHE_HOME/robust-nas, else ~/.cache/robust-nas),
 * each laid out like /work/shared/datasets: mnist/, fashion-mnist/, cifar-10/cifar-10-batches-bin/.
 * For MNIST the bundled copy of the official test files (data/mnist in the package) comes next, so the
 * tool works offline; otherwise the files are downloaded into the user cache.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CifarDatasetSpec, IdxDatasetSpec } from './registry.js';

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

/** The folders searched, in order (the bundled one excluded). */
export function dataRoots(dataDir?: string, env: NodeJS.ProcessEnv = process.env): DataRoot[] {
  const roots: DataRoot[] = [];
  if (dataDir) roots.push({ root: resolve(dataDir), source: 'data-dir' });
  if (env.ROBUST_NAS_DATA) roots.push({ root: resolve(env.ROBUST_NAS_DATA), source: 'env' });
  roots.push({ root: userCacheDir(env), source: 'cache' });
  return roots;
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

/** The first root whose data set folder holds the files, or undefined. */
export function locateDataset(
  spec: IdxDatasetSpec | CifarDatasetSpec,
  dataDir?: string,
  env: NodeJS.ProcessEnv = process.env,
): (DataRoot & { folder: string }) | undefined {
  for (const r of dataRoots(dataDir, env)) {
    const folder = join(r.root, spec.folder);
    const found = spec.format === 'idx' ? hasIdxFiles(folder, spec) : hasCifarFiles(folder, spec);
    if (found) return { ...r, folder };
  }
  return undefined;
}
