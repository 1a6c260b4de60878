/**
 * Candidates as repeated evaluation sees them: a candidate is a genotype (its canonical hash), and
 * each of its evaluation records is one seed (`seedIndex`; a cached copy repeats a seed already
 * counted). Its objectives are the means over the seeds that finished, each with the number of seeds
 * and a standard error: the error between seeds, and never less than the binomial error of one
 * evaluation for an accuracy (measured on the same n images whatever the seed), nor below the run's
 * pooled seed variance over the candidate's seeds (once some candidate has two seeds: so a one-seed
 * candidate's error bar shows the seed noise it cannot measure itself). The front, survival,
 * the hypervolume and the dashboard all use these means. Pure functions, no I/O.
 */
import type { Genotype } from './genotype.js';
import { meanAndStderr } from './noise-stats.js';
import { objectiveImages, type ObjectiveSpec } from './objectives.js';
import type { EvaluationRecord } from './records.js';

export interface CandidateEstimate {
  readonly hash: string;
  readonly genotype: Genotype;
  /**
   * The candidate's place in populations and fronts: the index of its first finished evaluation
   * (of its first evaluation when none finished).
   */
  readonly index: number;
  /** Seeds evaluated, finished or failed (the next seed's index). */
  readonly evaluatedSeeds: number;
  /** Seeds that finished with objective values: the n behind `mean`. */
  readonly seeds: number;
  /** Per finished seed (ascending seed index), its objective values. */
  readonly values: readonly (readonly number[])[];
  /** Means over the finished seeds, in the run's objective order; empty when none finished. */
  readonly mean: readonly number[];
  /** Standard errors of those means (see the module comment); empty when none finished. */
  readonly stderr: readonly number[];
}

/** Which seed of its genotype a record is (records stored before repeated evaluation: 0). */
export function seedIndexOf(r: Pick<EvaluationRecord, 'seedIndex'>): number {
  return r.seedIndex ?? 0;
}

interface Accumulator {
  hash: string;
  genotype: Genotype;
  first: number;
  firstFinished: number | undefined;
  /** seed index -> the first record of that seed */
  seeds: Map<number, EvaluationRecord>;
}

/**
 * The candidates of `records` by genotype hash, in order of first appearance. Only records with an
 * index below `before` count (default: all), so a generation's survival can be judged on what was
 * stored when it started.
 */
export function candidateEstimates(
  records: readonly EvaluationRecord[],
  objectives: readonly ObjectiveSpec[],
  before = Infinity,
): Map<string, CandidateEstimate> {
  const acc = new Map<string, Accumulator>();
  const sorted = [...records].sort((a, b) => a.index - b.index);
  for (const r of sorted) {
    if (r.index >= before) break;
    let a = acc.get(r.hash);
    if (!a) {
      a = {
        hash: r.hash,
        genotype: r.genotype,
        first: r.index,
        firstFinished: undefined,
        seeds: new Map(),
      };
      acc.set(r.hash, a);
    }
    const s = seedIndexOf(r);
    if (a.seeds.has(s)) continue; // a cached copy of a seed already counted
    a.seeds.set(s, r);
    if (a.firstFinished === undefined && r.status === 'finished' && r.objectives) {
      a.firstFinished = r.index;
    }
  }
  const out = new Map<string, CandidateEstimate>();
  for (const a of acc.values()) out.set(a.hash, estimateOf(a, objectives));
  const pooled = pooledSeedVariance([...out.values()], objectives.length);
  if (pooled.some((v) => v !== undefined)) {
    for (const [hash, e] of out) out.set(hash, withVarianceFloor(e, pooled));
  }
  return out;
}

/**
 * The run's pooled seed variance per objective: the within-genotype mean square over every
 * candidate with two finished seeds or more (sum of squared deviations from each candidate's mean,
 * over the sum of seeds - 1); undefined for an objective while no candidate has two seeds.
 */
export function pooledSeedVariance(
  estimates: readonly CandidateEstimate[],
  objectives: number,
): (number | undefined)[] {
  return Array.from({ length: objectives }, (_, k) => {
    let squares = 0;
    let df = 0;
    for (const e of estimates) {
      if (e.seeds < 2) continue;
      const m = e.mean[k]!;
      for (const v of e.values) squares += (v[k]! - m) ** 2;
      df += e.seeds - 1;
    }
    return df > 0 ? squares / df : undefined;
  });
}

/**
 * A candidate's standard errors floored by the pooled seed variance: sqrt(pooled / seeds). With one
 * seed (no spread of its own) or a few seeds that happen to agree, its error is then what the run's
 * seed noise says, not the binomial error of one evaluation alone.
 */
function withVarianceFloor(
  e: CandidateEstimate,
  pooled: readonly (number | undefined)[],
): CandidateEstimate {
  if (e.seeds === 0) return e;
  return {
    ...e,
    stderr: e.stderr.map((s, k) => {
      const v = pooled[k];
      return v === undefined ? s : Math.max(s, Math.sqrt(v / e.seeds));
    }),
  };
}

function estimateOf(a: Accumulator, objectives: readonly ObjectiveSpec[]): CandidateEstimate {
  const finished = [...a.seeds.entries()]
    .sort(([x], [y]) => x - y)
    .map(([, r]) => r)
    .filter((r) => r.status === 'finished' && r.objectives);
  const values = finished.map((r) => r.objectives!);
  const mean: number[] = [];
  const stderr: number[] = [];
  if (values.length > 0) {
    objectives.forEach((o, k) => {
      const m = meanAndStderr(values.map((v) => v[k]!));
      // One evaluation's binomial error: the seeds share the scored images, so it does not shrink.
      const images = finished[0]!.scores ? objectiveImages(o, finished[0]!.scores) : undefined;
      const binomial =
        images !== undefined && images > 0
          ? Math.sqrt(Math.max(0, m.mean * (1 - m.mean)) / images)
          : 0;
      mean.push(m.mean);
      stderr.push(Math.max(m.stderr, binomial));
    });
  }
  return {
    hash: a.hash,
    genotype: a.genotype,
    index: a.firstFinished ?? a.first,
    evaluatedSeeds: a.seeds.size,
    seeds: values.length,
    values,
    mean,
    stderr,
  };
}

/** The estimate of each evaluation index that is its candidate's place (see `index`). */
export function estimatesByIndex(
  estimates: ReadonlyMap<string, CandidateEstimate>,
): Map<number, CandidateEstimate> {
  return new Map([...estimates.values()].map((e) => [e.index, e]));
}

/** A member of a Pareto front with the evidence behind it. */
export interface FrontMember {
  /** Its place: the index of its first finished evaluation. */
  readonly index: number;
  readonly generation: number;
  readonly hash: string;
  readonly genotype: Genotype;
  /** Seeds behind the means. */
  readonly seeds: number;
  /** Means over the seeds and their standard errors, in the run's objective order. */
  readonly mean: readonly number[];
  readonly stderr: readonly number[];
}

/**
 * The members of `front` (evaluation indices, as a generation summary stores them) judged on the
 * evaluations with an index below `before` (default: all): what the front stood on when stored.
 */
export function frontMembers(
  records: readonly EvaluationRecord[],
  objectives: readonly ObjectiveSpec[],
  front: readonly number[],
  before = Infinity,
): FrontMember[] {
  const byHash = candidateEstimates(records, objectives, before);
  const byIndex = new Map(records.map((r) => [r.index, r]));
  return front.flatMap((i) => {
    const r = byIndex.get(i);
    const e = r ? byHash.get(r.hash) : undefined;
    if (!r || !e) return [];
    return [
      {
        index: i,
        generation: r.generation,
        hash: e.hash,
        genotype: e.genotype,
        seeds: e.seeds,
        mean: e.mean,
        stderr: e.stderr,
      },
    ];
  });
}
