/**
 * The study's report as data (pure): settings, per data set the protocol and the size matching of
 * the baselines, the claims' verdicts and the rows. report.json is this object; the Markdown and
 * HTML pages render it. Nothing here depends on timing or the machine, so an interrupted and
 * resumed study gives the same report as an uninterrupted one.
 */
import { meanAndStderr } from '../core/noise-stats.js';
import type { StudyRow } from './aggregate.js';
import { aggregateRows } from './aggregate.js';
import { COMPLEXITY_ORDER, type StudyBudget, type StudyDataset } from './budgets.js';
import { architectures, planJobs, type Family, type StudyJob } from './plan.js';
import type { JournalEntry, StudySettings } from './study-folder.js';
import {
  detectableDifferences,
  pilotFromRows,
  README_PILOT,
  type DetectableDifference,
} from './power.js';
import { judgeClaims, type StableClaimVerdict } from './verdicts.js';

export interface ReportRow {
  readonly dataset: string;
  readonly architecture: string;
  readonly family: Family;
  readonly seeds: number;
  readonly params: number;
  readonly macs: number;
  /** Test images per seed. */
  readonly n: number;
  readonly clean: { readonly mean: number; readonly stderr: number };
  readonly robust: readonly {
    readonly attack: string;
    readonly eps: number;
    readonly mean: number;
    readonly stderr: number;
    readonly n: number;
    /** Seeds behind the mean (the eps sweep may have fewer than the claims' attack). */
    readonly seeds: number;
  }[];
  readonly hrs: { readonly mean: number; readonly stderr: number };
  /** Baselines: the width multiplier that matches the NAS cells' size. */
  readonly width?: number;
  /** Seeds that failed, with the reason. */
  readonly failures: readonly string[];
}

export interface DatasetProtocol {
  readonly dataset: StudyDataset;
  readonly trainSize: number;
  /** Test images per seed behind the claims (clean and PGD at the reference eps). */
  readonly testSize: number;
  /** What the budget asked when the data folder held fewer test images (else absent). */
  readonly testSizeAsked?: number;
  /** The eps sweep's test images and seeds (the budget may run it apart, as description). */
  readonly sweepTestSize: number;
  readonly sweepSeeds: number;
  readonly epochs: number;
  readonly eps: readonly number[];
  readonly referenceEps: number;
  readonly dataDir: string | null;
}

/** The claims' detectable differences (src/study/power.ts), from one pilot. */
export interface PowerSection {
  readonly pilot: string;
  readonly detectable: readonly DetectableDifference[];
}

export interface StudyReport {
  readonly format: 'robust-nas-study-report';
  readonly version: 1;
  readonly robustNasVersion: string;
  /** The command that reproduces this study (and this report). */
  readonly command: string;
  readonly settings: StudySettings;
  readonly complete: boolean;
  readonly evaluations: {
    readonly planned: number;
    readonly finished: number;
    readonly failed: number;
  };
  /** The protocol in one paragraph (networks, training, attacks), from the budget. */
  readonly method: string;
  readonly protocol: readonly DatasetProtocol[];
  /** Decided only when stable: `leaveOneSeedOut` holds the verdict with each seed left out. */
  readonly claims: readonly StableClaimVerdict[];
  /**
   * The smallest difference each claim can detect at this study's seeds and test images (paired t,
   * 95%, power 80%; src/study/power.ts): `before` from the noise figures known before the run
   * (README's), `after` from this study's own seeds (null before 2 seeds common to its networks).
   */
  readonly power: { readonly before: PowerSection; readonly after: PowerSection | null };
  /**
   * APGD-CE as a check on PGD, per data set: APGD-CE accuracy minus PGD accuracy at the reference
   * eps, mean ± standard error over the architectures with results (negative: APGD-CE finds more).
   */
  readonly apgdCheck: readonly {
    readonly dataset: string;
    readonly eps: number;
    readonly architectures: number;
    readonly mean: number;
    readonly stderr: number;
  }[];
  readonly rows: readonly ReportRow[];
  /** Per-seed figures behind the rows (for re-analysis). */
  readonly perSeed: readonly {
    dataset: string;
    architecture: string;
    seeds: StudyRow['perSeed'];
  }[];
}

export function studyCommand(settings: StudySettings): string {
  const dirs = Object.entries(settings.dataDirs);
  return [
    'robust-nas study',
    `--budget ${settings.budgetName}`,
    `--datasets ${settings.datasets.join(',')}`,
    `--seeds ${settings.seeds}`,
    ...(dirs.length ? [`# data folders: ${dirs.map(([d, f]) => `${d}=${f}`).join(', ')}`] : []),
  ].join(' ');
}

export function buildReport(
  settings: StudySettings,
  entries: ReadonlyMap<string, JournalEntry>,
): StudyReport {
  // The budget as stored with the study (a later edit of budgets.ts does not rewrite its report).
  const budget = settings.budget as unknown as StudyBudget;
  const datasets = [...settings.datasets].sort(
    (a, b) => COMPLEXITY_ORDER.indexOf(a) - COMPLEXITY_ORDER.indexOf(b),
  );
  const jobs: StudyJob[] = planJobs({
    budget,
    datasets,
    seeds: settings.seeds,
    dataDirs: settings.dataDirs as Partial<Record<StudyDataset, string>>,
  });
  const referenceEps = (d: string) => budget.perDataset[d as StudyDataset].referenceEps;
  const rows = aggregateRows(jobs, entries, referenceEps);
  const widths = new Map<string, number>();
  const ensembleMembers: Record<string, readonly string[]> = {};
  for (const d of datasets) {
    for (const a of architectures(budget, d)) {
      if (a.spec && 'arch' in a.spec && a.spec.width !== undefined) {
        widths.set(`${d}/${a.name}`, a.spec.width);
      }
      if (a.members) ensembleMembers[a.name] = a.members;
    }
  }
  const verdictInput = { rows, datasets, referenceEps, ensembleMembers };
  const claims = judgeClaims(verdictInput);
  const ownPilot = pilotFromRows(verdictInput);
  const power = {
    before: {
      pilot: README_PILOT.source,
      detectable: detectableDifferences(budget, datasets, settings.seeds, README_PILOT),
    },
    after: ownPilot
      ? {
          pilot: ownPilot.source,
          detectable: detectableDifferences(budget, datasets, settings.seeds, ownPilot),
        }
      : null,
  };
  const finished = jobs.filter((j) => entries.has(j.id));
  const failed = finished.filter((j) => 'failed' in (entries.get(j.id) as JournalEntry));
  return {
    format: 'robust-nas-study-report',
    version: 1,
    robustNasVersion: settings.robustNasVersion,
    command: studyCommand(settings),
    settings,
    complete: finished.length === jobs.length,
    evaluations: { planned: jobs.length, finished: finished.length, failed: failed.length },
    method:
      `Networks: the DARTS cell networks (NAS cells and random genotypes) have ${budget.channels} initial channels and ${budget.layers} cells; ` +
      `the hand-crafted networks are scaled (width multiplier) to the median parameter count of the NAS cell networks. ` +
      `${budget.randomGenotypes} random genotypes are drawn uniformly from the DARTS space; ensembles of the first ${budget.ensembleSizes.join(', ')} of them average their logits (members trained separately, attacked end to end). ` +
      `Training, the same for every network: SGD with momentum 0.9, learning rate ${budget.learningRate} (cosine to 0), batch ${budget.batchSize}, weight decay 3e-4, gradient clipping 5, no augmentation, no adversarial training; ${settings.seeds} seed(s) per network. ` +
      `Attacks on the test split, in inference mode, inputs in [0, 1]: FGSM, R-FGSM (alpha eps/2), Step-LL and PGD (${budget.pgdSteps} steps, alpha eps/4, random start) over the eps sweep; APGD-CE (${budget.apgdSteps} steps) at the reference eps as a check on PGD.` +
      (budget.sweepSeeds !== undefined
        ? ` The claims use PGD at the reference eps on every seed; the eps sweep and APGD-CE run on the first ${Math.min(settings.seeds, budget.sweepSeeds)} seed(s) only, on the saved weights, with fewer test images (description).`
        : ''),
    protocol: datasets.map((d) => {
      const p = budget.perDataset[d];
      return {
        dataset: d,
        trainSize: p.trainSize,
        testSize: p.testSize,
        ...(p.testSizeAsked !== undefined ? { testSizeAsked: p.testSizeAsked } : {}),
        sweepTestSize: Math.min(p.sweepTestSize ?? p.testSize, p.testSize),
        sweepSeeds: Math.min(settings.seeds, budget.sweepSeeds ?? settings.seeds),
        epochs: p.epochs,
        eps: p.eps,
        referenceEps: p.referenceEps,
        dataDir: settings.dataDirs[d] ?? null,
      };
    }),
    claims,
    power,
    apgdCheck: datasets.map((d) => {
      const eps = referenceEps(d);
      const diffs = rows
        .filter((r) => r.dataset === d && r.seeds > 0)
        .flatMap((r) => {
          const apgd = r.robust.find(
            (c) => c.attack === 'apgd-ce' && Math.abs(c.eps - eps) < 1e-12,
          );
          // PGD on the same test images as APGD-CE (the sweep's, when the budget runs it apart).
          const pgd = r.robust.find(
            (c) => c.attack === 'pgd' && Math.abs(c.eps - eps) < 1e-12 && c.n === apgd?.n,
          );
          return apgd && pgd ? [apgd.mean - pgd.mean] : [];
        });
      const stat =
        diffs.length >= 2
          ? meanAndStderr(diffs)
          : { mean: diffs[0] ?? Number.NaN, stderr: Number.NaN };
      return { dataset: d, eps, architectures: diffs.length, ...stat };
    }),
    rows: rows.map((r) => {
      const width = widths.get(`${r.dataset}/${r.architecture}`);
      return {
        dataset: r.dataset,
        architecture: r.architecture,
        family: r.family,
        seeds: r.seeds,
        params: r.params,
        macs: r.macs,
        n: r.n,
        clean: r.clean,
        robust: r.robust.map(({ attack, eps, mean, stderr, n, seeds }) => ({
          attack,
          eps,
          mean,
          stderr,
          n,
          seeds,
        })),
        hrs: r.hrs,
        ...(width !== undefined ? { width } : {}),
        failures: r.failures,
      };
    }),
    perSeed: rows.map((r) => ({
      dataset: r.dataset,
      architecture: r.architecture,
      seeds: r.perSeed,
    })),
  };
}

/** report.json's text: NaN (no result) becomes null. */
export function reportJson(report: StudyReport): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
