/**
 * The noise measurement behind `robust-nas noise` (the command parses options and prints): how much
 * of a search's objectives belongs to the architecture and how much to the training seed, at a
 * search config's settings. The plan samples K genotypes from the run's space (the config's seed,
 * nodes and ops) and S seeds; every genotype is evaluated with every seed through the placement
 * layer's evaluator (so the rows are the same in this process, a pool of any size, or the queue);
 * the summary gives, per objective, the mean, the within- and between-genotype standard deviations,
 * ICC(1) and the seeds whose mean reaches a reliability of 0.8 (noiseStats).
 */
import { genotypeHash } from '../core/canonical.js';
import { InputError } from '../core/errors.js';
import { EvaluationFailure, type Scores } from '../core/evaluation.js';
import type { Genotype } from '../core/genotype.js';
import { noiseStats, reliabilityAt, type NoiseStats } from '../core/noise-stats.js';
import { objectiveLabel, objectiveValues, type ObjectiveSpec } from '../core/objectives.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';
import type { SearchConfig } from '../core/search-config.js';
import type { RunEvaluator } from '../placement/placement.js';

/** Bounds: at least 2 genotypes and 2 seeds (the statistics need both), at most 1 000 evaluations. */
export const MAX_NOISE_EVALUATIONS = 1000;

/** The genotypes and seeds a noise report evaluates: a pure function of the config. */
export interface NoisePlan {
  readonly genotypes: readonly { readonly genotype: Genotype; readonly hash: string }[];
  readonly seeds: readonly number[];
}

/**
 * K distinct genotypes (by canonical hash) sampled from the config's space, from the config's seed,
 * then S evaluation seeds from the same generator; every genotype is evaluated with every seed.
 */
export function noisePlan(config: SearchConfig, genotypes: number, seeds: number): NoisePlan {
  const rng = Rng.fromSeed(`noise:${config.seed}`);
  const options = { nodes: config.nodes, ...(config.ops ? { ops: config.ops } : {}) };
  const picked: { genotype: Genotype; hash: string }[] = [];
  // A small space (few nodes and ops) may hold fewer genotypes than asked for: give up after a
  // bounded number of draws rather than loop forever.
  for (let draws = 0; picked.length < genotypes && draws < 100 * genotypes; draws++) {
    const genotype = sampleGenotype(rng, options);
    const hash = genotypeHash(genotype);
    if (!picked.some((p) => p.hash === hash)) picked.push({ genotype, hash });
  }
  if (picked.length < genotypes) {
    throw new InputError(
      `--genotypes: the config's space (nodes ${config.nodes}, ${config.ops?.length ?? 'all'} ops) gave only ${picked.length} distinct genotypes`,
    );
  }
  const seedList: number[] = [];
  while (seedList.length < seeds) {
    const s = rng.seed32();
    if (!seedList.includes(s)) seedList.push(s);
  }
  return { genotypes: picked, seeds: seedList };
}

/** One evaluation of the report: its objective values, or why it failed. */
export interface NoiseRow {
  readonly hash: string;
  readonly seed: number;
  /** The config's objectives, in its order; empty for a failed evaluation. */
  readonly objectives: readonly number[];
  /** Seconds the evaluation took (training plus attacks), as the evaluator measured them. */
  readonly seconds?: number;
  readonly failure?: string;
}

/** One objective's statistics over the rows that succeeded (null fields: too few values). */
export interface NoiseObjectiveSummary {
  readonly name: string;
  readonly mean: number | null;
  readonly withinSd: number | null;
  readonly betweenSd: number | null;
  readonly icc: number | null;
  readonly seedsFor08: number | null;
  /** Reliability of the mean over the seeds evaluated here (Spearman-Brown). */
  readonly reliabilityAtSeeds: number | null;
  /** Genotypes and evaluations that entered. */
  readonly genotypes: number;
  readonly values: number;
  /** Why there are no statistics, when there are none. */
  readonly note?: string;
}

/** Per objective: noiseStats of the successful rows grouped by genotype hash (in plan order). */
export function summarizeNoise(
  objectives: readonly ObjectiveSpec[],
  rows: readonly NoiseRow[],
  seeds: number,
): NoiseObjectiveSummary[] {
  const hashes = [...new Set(rows.map((r) => r.hash))];
  const ok = rows.filter((r) => r.failure === undefined);
  return objectives.map((o, k) => {
    const groups = hashes.map((h) =>
      ok.filter((r) => r.hash === h).map((r) => r.objectives[k] as number),
    );
    const name = objectiveLabel(o);
    let stats: NoiseStats;
    try {
      stats = noiseStats(groups);
    } catch (err) {
      const values = groups.reduce((s, g) => s + g.length, 0);
      return {
        name,
        mean: null,
        withinSd: null,
        betweenSd: null,
        icc: null,
        seedsFor08: null,
        reliabilityAtSeeds: null,
        genotypes: groups.filter((g) => g.length > 0).length,
        values,
        note: err instanceof Error ? err.message : String(err),
      };
    }
    return {
      name,
      mean: stats.mean,
      withinSd: stats.withinSd,
      betweenSd: stats.betweenSd,
      icc: stats.icc,
      seedsFor08: stats.seedsFor08,
      reliabilityAtSeeds: reliabilityAt(stats.icc, seeds),
      genotypes: stats.groups,
      values: stats.values,
    };
  });
}

/** Runs every evaluation of the plan (as many at once as the evaluator takes), in plan order. */
export async function evaluateNoisePlan(
  plan: NoisePlan,
  config: SearchConfig,
  evaluator: RunEvaluator,
  onDone: (row: NoiseRow) => void,
): Promise<NoiseRow[]> {
  const jobs = plan.genotypes.flatMap((g) => plan.seeds.map((seed) => ({ ...g, seed })));
  const rows: NoiseRow[] = new Array<NoiseRow>(jobs.length);
  const run = async (i: number): Promise<void> => {
    const job = jobs[i]!;
    let row: NoiseRow;
    try {
      const { scores } = await evaluator.evaluate(job.genotype, config.evaluation, job.seed);
      row = rowOf(job.hash, job.seed, config.objectives, scores);
    } catch (err) {
      // A candidate's own failure (NaN loss, a network that cannot be built) is a row; an error of
      // the machine (data missing, a crashed backend) ends the report.
      if (!(err instanceof EvaluationFailure)) throw err;
      row = { hash: job.hash, seed: job.seed, objectives: [], failure: err.message };
    }
    rows[i] = row;
    onDone(row);
  };
  let next = 0;
  const lanes = Array.from({ length: Math.min(evaluator.concurrency, jobs.length) }, async () => {
    while (next < jobs.length) await run(next++);
  });
  await Promise.all(lanes);
  return rows;
}

function rowOf(hash: string, seed: number, objectives: readonly ObjectiveSpec[], s: Scores) {
  return { hash, seed, objectives: objectiveValues(objectives, s), seconds: s.seconds.total };
}
