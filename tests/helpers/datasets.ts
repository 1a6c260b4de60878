import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Real data that the repository itself holds, so that every test runs on a fresh clone:
 * - the bundled MNIST copy (data/mnist: the official 10 000 test images);
 * - tests/fixtures/datasets: a data root with the first 1000 training and 500 test images of
 *   Fashion-MNIST (IDX, gzip) and CIFAR-10 (binary batches); see its README for provenance.
 */
export const BUNDLED_MNIST = join(ROOT, 'data', 'mnist');
export const FIXTURE_DATA = join(ROOT, 'tests', 'fixtures', 'datasets');

/**
 * A larger copy of the real data sets (a data root holding mnist/, fashion-mnist/, cifar-10/) when
 * ROBUST_NAS_DATA names one, else undefined. Tests may check it as well, never depend on it.
 */
export function largeDataDir(): string | undefined {
  const dir = process.env.ROBUST_NAS_DATA;
  if (!dir) return undefined;
  if (!existsSync(dir))
    throw new Error(`ROBUST_NAS_DATA=${dir} does not exist: unset it or fix it`);
  return resolve(dir);
}
