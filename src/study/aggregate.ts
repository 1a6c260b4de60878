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
}

export interface SeedResult {
  readonly seed: number;
  readonly clean: number;
  /** Aligned with the row's `robust`. */
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
  for (const list of groups.values()) {
    const first = list[0] as StudyJob;
    const seeds: SeedResult[] = [];
    const failures: string[] = [];
    let sample: Extract<JournalEntry, { scores: unknown }>['scores'] | undefined;
    for (const job of [...list].sort((a, b) => a.seed - b.seed)) {
      const entry = entries.get(job.id);
      if (!entry) continue;
      if ('failed' in entry) {
        failures.push(`seed ${job.seed}: ${entry.failed}`);
        continue;
      }
      const s = entry.scores;
      sample ??= s;
      const at = s.adversarial.findIndex(
        (a) => a.attack === 'pgd' && Math.abs(a.eps - referenceEps(job.dataset)) < 1e-12,
      );
      const pgd = at >= 0 ? (s.adversarial[at]?.accuracy ?? 0) : 0;
      seeds.push({
        seed: job.seed,
        clean: s.clean.accuracy,
        robust: s.adversarial.map((a) => a.accuracy),
        hrs: harmonicRobustnessScore(s.clean.accuracy, pgd),
      });
    }
    if (!sample || seeds.length === 0) {
      if (failures.length === 0) continue;
    }
    // With one seed there is no standard error over seeds: NaN (null in report.json), never 0.
    const stat = (values: number[]): MeanStderr =>
      values.length >= 2
        ? meanAndStderr(values)
        : { mean: values.length ? (values[0] as number) : Number.NaN, stderr: Number.NaN };
    rows.push({
      dataset: first.dataset,
      architecture: first.architecture,
      family: first.family,
      seeds: seeds.length,
      seedsPlanned: list.length,
      failures,
      params: sample?.params ?? Number.NaN,
      macs: sample?.macs ?? Number.NaN,
      n: sample?.clean.n ?? 0,
      clean: stat(seeds.map((s) => s.clean)),
      robust: (sample?.adversarial ?? []).map((a, i) => ({
        attack: a.attack,
        eps: a.eps,
        n: a.n,
        ...stat(seeds.map((s) => s.robust[i] as number)),
      })),
      hrs: stat(seeds.map((s) => s.hrs)),
      perSeed: seeds,
    });
  }
  return rows;
}
