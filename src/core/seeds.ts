/**
 * Seed streams that are not the search's own. Common random numbers (resampling.commonSeeds): the
 * k-th seed of every candidate of a run is the k-th `seed32()` of the RNG seeded with the string
 * `robust-nas common seeds <run seed>`, so candidates compared on their k-th seeds share the seed's
 * common effect (initialisation stream and batch order).
 */
import { Rng } from './rng.js';

const memo = new Map<number, number[]>();

/** The k-th common seed of a run with seed `runSeed`. */
export function commonSeed(runSeed: number, seedIndex: number): number {
  let seeds = memo.get(runSeed);
  if (!seeds) {
    seeds = [];
    memo.set(runSeed, seeds);
  }
  if (seeds.length <= seedIndex) {
    const rng = Rng.fromSeed(`robust-nas common seeds ${runSeed}`);
    seeds.length = 0;
    for (let k = 0; k <= Math.max(seedIndex, 31); k++) seeds.push(rng.seed32());
  }
  return seeds[seedIndex]!;
}
