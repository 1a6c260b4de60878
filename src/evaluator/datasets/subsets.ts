/**
 * Deterministic subsets: a seeded permutation of the training pool gives the validation split (first
 * valSize images) and the training split (next trainSize images), disjoint; a seeded permutation of
 * the test pool gives the test split. Same (pools, sizes, seed) -> same images in the same order.
 */
import { InputError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { selectImages, type ImageSet } from './image-set.js';
import type { LoadedDataset } from './load.js';

export interface SplitSizes {
  readonly trainSize: number;
  readonly valSize: number;
  readonly testSize: number;
  /**
   * The split that will be scored: with 'val' (a search) the test split is not drawn (it is empty),
   * so a test pool smaller than testSize is no obstacle. Absent: both are drawn.
   */
  readonly split?: 'val' | 'test';
}

export interface Splits {
  readonly train: ImageSet;
  /** Carved from the training pool, disjoint from `train`: what a search scores on. */
  readonly val: ImageSet;
  /** From the test pool: for final reports only. */
  readonly test: ImageSet;
}

/** InputError when the pools cannot supply the sizes asked for (see {@link SplitSizes.split}). */
export function checkSplitSizes(
  data: Pick<LoadedDataset, 'spec' | 'train' | 'test' | 'source'>,
  sizes: SplitSizes,
): void {
  const { trainSize, valSize, testSize } = sizes;
  const title = data.spec.title;
  if (trainSize + valSize > data.train.count) {
    throw new InputError(
      `train-size ${trainSize} + val-size ${valSize} exceed the ${data.train.count} training images of ${title}` +
        (data.source === 'bundled'
          ? ' (bundled copy; point ROBUST_NAS_DATA or --data-dir at the full set)'
          : ''),
    );
  }
  if (sizes.split !== 'val' && testSize > data.test.count) {
    throw new InputError(
      `test-size ${testSize} exceeds the ${data.test.count} test images of ${title}`,
    );
  }
}

export function makeSplits(data: LoadedDataset, sizes: SplitSizes, seed: number): Splits {
  checkSplitSizes(data, sizes);
  const { trainSize, valSize } = sizes;
  const testSize = sizes.split === 'val' ? 0 : sizes.testSize;
  const rng = Rng.fromSeed(`robust-nas split ${seed}`);
  const trainOrder = seededPrefix(rng, data.train.count, trainSize + valSize);
  const testOrder = seededPrefix(rng, data.test.count, testSize);
  return {
    val: selectImages(data.train, trainOrder.slice(0, valSize)),
    train: selectImages(data.train, trainOrder.slice(valSize)),
    test: selectImages(data.test, testOrder),
  };
}

/** The first k entries of a seeded permutation of 0..n-1 (partial Fisher-Yates). */
function seededPrefix(rng: Rng, n: number, k: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a.slice(0, k);
}
