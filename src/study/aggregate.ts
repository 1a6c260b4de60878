/**
 * From the journal to the report's rows: per data set and architecture, the mean and standard
 * error over seeds of clean accuracy, of robust accuracy under every attack and eps, and of HRS
 * (2CR/(C+R) of clean and PGD accuracy at the data set's reference eps, per seed), with the number
 * of test images behind each figure and the seeds that produced it. Pure.
 */
import { harmonicRobustnessScore } from '../core/evaluation.js';
import { meanAndStderr } from '../core/noise-stats.js';
import type { Family, StudyJob } from './plan.js';
import type { JournalEntry } from './study-folder.js';

export interface MeanStderr {
  readonly mean: number;
  readonly stderr: number;
}

export interface RobustCell extends MeanStderr {
  readonly attack: string;
  readonly eps: number;
  /** Test images per seed. */
  readonly n: number;
  /** Seeds behind the mean (the eps sweep of some budgets runs on fewer seeds than the claims). */
  readonly seeds: number;
}

export interface SeedResult {
  readonly seed: number;
  readonly clean: number;
  /** Aligned with the row's `robust` (NaN: not measured at this seed, e.g. the sweep's). */
  readonly robust: readonly number[];
  readonly hrs: number;
}

export interface StudyRow {
  readonly dataset: string;
  readonly architecture: string;
  readonly family: Family;
  /** Seeds whose evaluation finished and succeeded (the n of every mean here). */
  readonly seeds: number;
  readonly seedsPlanned: number;
  /** Reasons of the seeds that failed. */
  readonly failures: readonly string[];
  readonly params: number;
  readonly macs: number;
  /** Test images per seed. */
  readonly n: number;
  readonly clean: MeanStderr;
  readonly robust: readonly RobustCell[];
  readonly hrs: MeanStderr;
  readonly perSeed: readonly SeedResult[];
}

/** The PGD accuracy at `eps` of a row (index into `robust`), or -1. */
export function pgdIndex(row: Pick<StudyRow, 'robust'>, eps: number): number {
  return row.robust.findIndex((r) => r.attack === 'pgd' && Math.abs(r.eps - eps) < 1e-12);
}

/**
 * The rows, in plan order (one per data set and architecture that has at least one finished seed).
 * `referenceEps` gives each data set's reference eps (HRS's PGD accuracy).
 */
export function aggregateRows(
  jobs: readonly StudyJob[],
  entries: ReadonlyMap<string, JournalEntry>,
  referenceEps: (dataset: string) => number,
): StudyRow[] {
  const groups = new Map<string, StudyJob[]>();
  for (const job of jobs) {
    const key = `${job.dataset}/${job.architecture}`;
    const list = groups.get(key) ?? [];
    list.push(job);
    groups.set(key, list);
  }
  const rows: StudyRow[] = [];
  type Scores = Extract<JournalEntry, { scores: unknown }>['scores'];
  // A cell is an attack, an eps and a number of test images: the sweep's PGD at the reference eps
  // (fewer images) stays beside the claims' one, for the APGD-CE check on the same images.
  const key = (c: { attack: string; eps: number; n: number }) => `${c.attack}@${c.eps}@${c.n}`;
  for (const list of groups.values()) {
    const first = list[0] as StudyJob;
    const main = list.filter((j) => j.kind !== 'sweep').sort((a, b) => a.seed - b.seed);
    const sweeps = new Map(list.filter((j) => j.kind === 'sweep').map((j) => [j.seed, j]));
    const failures: string[] = [];
    const results: { seed: number; scores: Scores; sweep?: Scores }[] = [];
    for (const job of main) {
      const entry = entries.get(job.id);
      if (!entry) continue;
      if ('failed' in entry) {
        failures.push(`seed ${job.seed}: ${entry.failed}`);
        continue;
      }
      const sweepJob = sweeps.get(job.seed);
      const sweepEntry = sweepJob ? entries.get(sweepJob.id) : undefined;
      if (sweepEntry && 'failed' in sweepEntry) {
        failures.push(`seed ${job.seed} (eps sweep): ${sweepEntry.failed}`);
      }
      results.push({
        seed: job.seed,
        scores: entry.scores,
        ...(sweepEntry && 'scores' in sweepEntry ? { sweep: sweepEntry.scores } : {}),
      });
    }
    if (results.length === 0 && failures.length === 0) continue;
    // The cells: the claims' attacks (every seed), then the sweep's.
    const cells: { attack: string; eps: number; n: number; from: 'scores' | 'sweep' }[] = [];
    const seen = new Set<string>();
    for (const from of ['scores', 'sweep'] as const) {
      const sample = results.find((r) => r[from])?.[from];
      for (const a of sample?.adversarial ?? []) {
        if (seen.has(key(a))) continue;
        seen.add(key(a));
        cells.push({ attack: a.attack, eps: a.eps, n: a.n, from });
      }
    }
    const seeds: SeedResult[] = results.map((r) => {
      const eps = referenceEps(first.dataset);
      const at = r.scores.adversarial.find(
        (a) => a.attack === 'pgd' && Math.abs(a.eps - eps) < 1e-12,
      );
      return {
        seed: r.seed,
        clean: r.scores.clean.accuracy,
        robust: cells.map(
          (c) => r[c.from]?.adversarial.find((a) => key(a) === key(c))?.accuracy ?? Number.NaN,
        ),
        hrs: harmonicRobustnessScore(r.scores.clean.accuracy, at?.accuracy ?? 0),
      };
    });
    // With one seed there is no standard error over seeds: NaN (null in report.json), never 0.
    const stat = (values: number[]): MeanStderr =>
      values.length >= 2
        ? meanAndStderr(values)
        : { mean: values.length ? (values[0] as number) : Number.NaN, stderr: Number.NaN };
    const sample = results[0]?.scores;
    rows.push({
      dataset: first.dataset,
      architecture: first.architecture,
      family: first.family,
      seeds: seeds.length,
      seedsPlanned: main.length,
      failures,
      params: sample?.params ?? Number.NaN,
      macs: sample?.macs ?? Number.NaN,
      n: sample?.clean.n ?? 0,
      clean: stat(seeds.map((s) => s.clean)),
      robust: cells.map((c, i) => {
        const values = seeds.map((s) => s.robust[i] as number).filter(Number.isFinite);
        return { attack: c.attack, eps: c.eps, n: c.n, seeds: values.length, ...stat(values) };
      }),
      hrs: stat(seeds.map((s) => s.hrs)),
      perSeed: seeds,
    });
  }
  return rows;
}
