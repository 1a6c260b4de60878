import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The folder of real data sets (mnist/, fashion-mnist/, cifar-10/): ROBUST_NAS_DATA as CI sets it,
 * else ../shared/datasets next to the repository (where .ci/run finds it).
 */
export function realDataDir(): string {
  const dir =
    process.env.ROBUST_NAS_DATA ?? resolve(import.meta.dirname, '../../../shared/datasets');
  if (!existsSync(dir)) {
    throw new Error(`real data sets not found at ${dir}: set ROBUST_NAS_DATA`);
  }
  return dir;
}
