/**
 * A data set's fingerprint: the SHA-256 of the files an evaluation reads (where the loader finds
 * them: the named folder, ROBUST_NAS_DATA, the user cache, or the bundled MNIST copy), combined
 * into one short digest. Queue jobs carry the coordinator's; a worker whose files differ refuses
 * the job (its results would differ silently). Each file's digest is cached by path, size, mtime
 * and inode, so a fingerprint costs one stat per file after the first.
 *
 * `undefined` when the data set is not on this machine yet (it would be downloaded: the worker
 * then cannot compare before loading, and says so) and for the generated synthetic set a constant.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isUserDataset, type DatasetName } from '../../core/evaluation.js';
import { bundledDataDir, locateDataset } from './locate.js';
import { datasetSpec, type BuiltinDatasetName } from './registry.js';

/** The files of the data set in `folder` an evaluation reads (those present). */
function filesOf(name: BuiltinDatasetName, folder: string): string[] {
  const spec = datasetSpec(name);
  if (spec.format === 'idx') {
    return Object.values(spec.files)
      .map((f) => f.name)
      .filter((n) => existsSync(join(folder, n)));
  }
  if (spec.format === 'cifar') {
    return [spec.testBatch, ...spec.trainBatches].filter((n) => existsSync(join(folder, n)));
  }
  return [];
}

/** The folder the loader would read `name` from, without downloading; undefined when none yet. */
export function datasetFolder(
  name: DatasetName,
  dataDir?: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (isUserDataset(name)) return undefined;
  const spec = datasetSpec(name);
  if (spec.format === 'synthetic') return undefined;
  const found = locateDataset(spec, dataDir, env);
  if (found) return found.folder;
  if (spec.format === 'idx' && spec.name === 'mnist') {
    const folder = join(bundledDataDir(), 'mnist');
    if (existsSync(join(folder, spec.files.testImages.name))) return folder;
  }
  return undefined;
}

const digests = new Map<string, { key: string; sha: string }>();

/** SHA-256 (hex) of one file, cached by its size, mtime and inode. */
export async function fileDigest(path: string): Promise<string> {
  const s = statSync(path);
  const key = `${s.size}:${s.mtimeMs}:${s.ino}`;
  const hit = digests.get(path);
  if (hit?.key === key) return hit.sha;
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', resolve)
      .on('error', reject);
  });
  const sha = hash.digest('hex');
  digests.set(path, { key, sha });
  return sha;
}

/**
 * The fingerprint of data set `name` as this machine would read it ("mnist:sha256:<16 hex>"),
 * or undefined when it is not here yet. Throws (InputError) when a named folder lacks it.
 */
export async function datasetFingerprint(
  name: DatasetName,
  dataDir?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  // The user's own data carries its content's sha256 in the job's config (dataChecksum), which the
  // loader checks on every machine: no second fingerprint.
  if (isUserDataset(name)) return undefined;
  if (datasetSpec(name).format === 'synthetic') return `${name}:generated`;
  const folder = datasetFolder(name, dataDir, env);
  if (!folder) return undefined;
  const files = filesOf(name as BuiltinDatasetName, folder).sort();
  const all = createHash('sha256');
  for (const f of files) all.update(`${f}\0${await fileDigest(join(folder, f))}\n`);
  return `${name}:sha256:${all.digest('hex').slice(0, 16)}`;
}
