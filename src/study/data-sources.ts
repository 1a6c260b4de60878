/**
 * Which folder each data set of a study is read from, decided once when the study starts and
 * stored in its settings (so a resumed study reads the same files, and a change is refused):
 *   1. the folder the user named (--data-dir, else ROBUST_NAS_DATA): it must hold the data set;
 *   2. else the user cache, when it holds the data set;
 *   3. else, for budgets that allow it (quick), the subset in the repository's
 *      tests/fixtures/datasets (Fashion-MNIST and CIFAR-10: the first 1 000 training and 500 test
 *      images), which a fresh clone has, with a notice;
 *   4. else nothing is recorded: MNIST comes from the bundled copy (data/mnist), the others are
 *      downloaded into the user cache on first use.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIdxFile } from '../evaluator/datasets/idx-reader.js';
import { BUNDLED_TEST_POOL } from '../evaluator/datasets/load.js';
import { locateDataset, resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { datasetSpec } from '../evaluator/datasets/registry.js';
import type { StudyBudget, StudyDataset } from './budgets.js';

/** The repository's test fixtures (present in a git clone, not in the npm package). */
export function fixtureDataRoot(): string | undefined {
  const root = fileURLToPath(new URL('../../tests/fixtures/datasets', import.meta.url));
  return existsSync(root) ? root : undefined;
}

export interface DataChoice {
  readonly dataDirs: Partial<Record<StudyDataset, string>>;
  /** Sentences worth telling the user (which data set comes from where). */
  readonly notes: string[];
}

export function chooseDataDirs(
  datasets: readonly StudyDataset[],
  budget: StudyBudget,
  dataDir: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): DataChoice {
  const dataDirs: Partial<Record<StudyDataset, string>> = {};
  const notes: string[] = [];
  for (const d of datasets) {
    const named = resolveNamedDataDir(d, dataDir, { env, label: '--data-dir' });
    if (named) {
      dataDirs[d] = named.folder;
      continue;
    }
    const spec = datasetSpec(d);
    if (spec.format === 'synthetic') continue;
    const cached = locateDataset(spec, undefined, env);
    if (cached) {
      dataDirs[d] = cached.folder;
      continue;
    }
    if (budget.perDataset[d].freshCloneSubset && d !== 'mnist') {
      const fixtures = fixtureDataRoot();
      if (fixtures) {
        dataDirs[d] = fixtures;
        notes.push(
          `${spec.title}: no full copy named or cached; using the repository's subset in ${fixtures} (1 000 training, 500 test images)`,
        );
        continue;
      }
    }
    notes.push(
      d === 'mnist'
        ? 'MNIST: using the bundled copy of the official test set (8 000 training + 2 000 test images)'
        : `${spec.title}: not found; it will be downloaded into the user cache`,
    );
  }
  return { dataDirs, notes };
}

/** CIFAR-10's test batch: 10 000 records of 1 label byte and 3 072 pixel bytes. */
const CIFAR_RECORD_BYTES = 3073;

/**
 * How many test images the study can score for `dataset` read from `folder` (undefined: the
 * bundled MNIST copy, or a data set still to be downloaded in full), from the files' headers.
 */
export function testImagesAvailable(
  dataset: StudyDataset,
  folder: string | undefined,
): number | undefined {
  const spec = datasetSpec(dataset);
  if (spec.format === 'synthetic') return undefined;
  if (folder === undefined) return dataset === 'mnist' ? BUNDLED_TEST_POOL : undefined;
  if (spec.format === 'idx') {
    const path = join(folder, spec.folder, spec.files.testLabels.name);
    const direct = join(folder, spec.files.testLabels.name);
    const file = existsSync(path) ? path : existsSync(direct) ? direct : undefined;
    return file ? readIdxFile(file, 1).dims[0] : undefined;
  }
  for (const base of [join(folder, spec.folder), folder]) {
    for (const sub of ['', 'cifar-10-batches-bin']) {
      const file = join(base, sub, spec.testBatch);
      if (existsSync(file)) return Math.floor(statSync(file).size / CIFAR_RECORD_BYTES);
    }
  }
  return undefined;
}
