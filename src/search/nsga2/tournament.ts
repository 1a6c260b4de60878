/**
 * Binary tournament selection of NSGA-II: two competitors drawn without replacement from shuffled
 * copies of the population (every member fights about equally often, as in pymoo); the lower Pareto
 * rank wins, then the larger crowding distance, then a fair coin.
 */
import type { Rng } from '../../core/rng.js';

export interface RankedMember {
  readonly rank: number;
  readonly crowding: number;
}

/** Winner (index into `members`) of one binary tournament between a and b. */
export function tournamentWinner(
  members: readonly RankedMember[],
  a: number,
  b: number,
  rng: Rng,
): number {
  const ma = members[a]!;
  const mb = members[b]!;
  if (ma.rank !== mb.rank) return ma.rank < mb.rank ? a : b;
  if (ma.crowding !== mb.crowding) return ma.crowding > mb.crowding ? a : b;
  return rng.bool() ? a : b;
}

/** Selects `count` parents (indices into `members`) by binary tournaments. */
export function binaryTournament(
  members: readonly RankedMember[],
  count: number,
  rng: Rng,
): number[] {
  const n = members.length;
  if (n === 0) throw new RangeError('tournament selection from an empty population');
  if (n === 1) return new Array<number>(count).fill(0);
  const needed = 2 * count;
  const pool: number[] = [];
  const ids = Array.from({ length: n }, (_, i) => i);
  while (pool.length < needed) pool.push(...rng.shuffle(ids));
  const winners: number[] = [];
  for (let t = 0; t < count; t++) {
    winners.push(tournamentWinner(members, pool[2 * t]!, pool[2 * t + 1]!, rng));
  }
  return winners;
}
