/**
 * A study from start to report: settings from the options, the study folder (created or resumed),
 * the plan, every evaluation not yet in the journal, then report.json, report.md, report.html and
 * plots/*.svg (also written when the study stops early, marked incomplete).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { checkEvaluationMemory } from '../evaluator/memory-estimate.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { InputError } from '../core/errors.js';
import {
  BUDGETS,
  COMPLEXITY_ORDER,
  type BudgetName,
  type StudyBudget,
  type StudyDataset,
} from './budgets.js';
import { chooseDataDirs, testImagesAvailable } from './data-sources.js';
import {
  chooseForTarget,
  detectableDifferences,
  detectableLines,
  estimateMinutes,
  README_PILOT,
} from './power.js';
import type { RunEvaluator } from '../placement/placement.js';
import { planJobs, type StudyJob } from './plan.js';
import { reportPlots } from './plots.js';
import { buildReport, reportJson, type StudyReport } from './report.js';
import { reportHtml, reportMarkdown } from './report-pages.js';
import { runStudy, type StudyEvent } from './run.js';
import {
  readEntries,
  readSettings,
  SETTINGS_FILE,
  StudyFolder,
  type JournalEntry,
  type StudySettings,
} from './study-folder.js';

export function robustNasVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

export interface StudyRequest {
  readonly budget: BudgetName;
  readonly datasets?: readonly StudyDataset[];
  readonly seeds?: number;
  readonly dataDir?: string;
  /**
   * The smallest difference (a fraction) every claim must detect: seeds and test images are chosen
   * for it (src/study/power.ts), instead of the budget's.
   */
  readonly targetDifference?: number;
  /** Workers the time estimate counts (--workers; 1 otherwise). */
  readonly workers?: number;
  readonly out: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** The settings a request stands for (data folders resolved now), with notes on the data. */
export function settingsOf(request: StudyRequest): { settings: StudySettings; notes: string[] } {
  const budget = BUDGETS[request.budget];
  const datasets = [...new Set(request.datasets ?? budget.datasets)].sort(
    (a, b) => COMPLEXITY_ORDER.indexOf(a) - COMPLEXITY_ORDER.indexOf(b),
  );
  if (datasets.length === 0) throw new InputError('--datasets: give at least one data set');
  const { dataDirs, notes } = chooseDataDirs(datasets, budget, request.dataDir, request.env);
  let stored = fitTestImages(budget, datasets, dataDirs, notes);
  let seeds = request.seeds ?? stored.seeds;
  if (request.targetDifference !== undefined) {
    if (request.seeds !== undefined) {
      throw new InputError('give either --seeds or --target-difference (which chooses the seeds)');
    }
    const available: Partial<Record<StudyDataset, number>> = {};
    for (const d of datasets) {
      const n = testImagesAvailable(d, dataDirs[d]);
      if (n !== undefined) available[d] = n;
    }
    const choice = chooseForTarget(
      stored,
      datasets,
      request.targetDifference,
      README_PILOT,
      request.workers ?? 1,
      available,
    );
    stored = choice.budget;
    seeds = choice.seeds;
    notes.push(
      `--target-difference ${(100 * request.targetDifference).toFixed(1)} points: ${seeds} seeds, ${datasets.map((d) => `${d} ${stored.perDataset[d].testSize} test images`).join(', ')} (the cheapest that reach it, from ${README_PILOT.source})`,
    );
  }
  return {
    settings: {
      format: 'robust-nas-study',
      version: 1,
      robustNasVersion: robustNasVersion(),
      budgetName: request.budget,
      budget: stored as unknown as Record<string, unknown>,
      datasets,
      seeds,
      dataDirs: dataDirs as Record<string, string>,
    },
    notes,
  };
}

/**
 * The budget as the study stores it: a copy in which each data set's test images are at most what
 * its data folder holds (the figure asked kept as `testSizeAsked`, and a note says so).
 */
export function fitTestImages(
  budget: StudyBudget,
  datasets: readonly StudyDataset[],
  dataDirs: Partial<Record<StudyDataset, string>>,
  notes: string[],
): StudyBudget {
  const copy = JSON.parse(JSON.stringify(budget)) as StudyBudget;
  const perDataset = copy.perDataset as Record<
    StudyDataset,
    StudyBudget['perDataset'][StudyDataset]
  >;
  for (const d of datasets) {
    const asked = perDataset[d];
    const available = testImagesAvailable(d, dataDirs[d]);
    if (available === undefined || available >= asked.testSize) continue;
    perDataset[d] = { ...asked, testSize: available, testSizeAsked: asked.testSize };
    notes.push(
      `${d}: the budget asks ${asked.testSize} test images per seed; ${dataDirs[d] ?? 'the bundled copy'} holds ${available}: using ${available} (the detectable differences below count with ${available})`,
    );
  }
  return copy;
}

/**
 * The study's name on the evaluation queue: a hash of its settings, so two studies share queue
 * results only when their settings (hence their evaluations) are the same.
 */
export function studyKey(settings: StudySettings): string {
  const hash = createHash('sha256').update(JSON.stringify(settings)).digest('hex');
  return `study-${hash.slice(0, 16)}`;
}

export function studyJobs(settings: StudySettings): StudyJob[] {
  return planJobs({
    budget: settings.budget as unknown as StudyBudget,
    datasets: settings.datasets,
    seeds: settings.seeds,
    dataDirs: settings.dataDirs as Partial<Record<StudyDataset, string>>,
  });
}

/**
 * Refuses (InputError) a study whose DARTS networks or ensembles would need more memory than
 * `limitMB` (src/evaluator/memory-estimate.ts), before anything is written or trained.
 */
export function checkStudyMemory(settings: StudySettings, limitMB: number): void {
  const jobs = studyJobs(settings);
  const byId = new Map(jobs.map((j) => [j.id, j]));
  for (const job of jobs) {
    if (job.seed !== 1) continue;
    const specs =
      job.kind === 'train' ? [job.spec] : (job.memberJobs ?? []).map((id) => byId.get(id)?.spec);
    const genotypes = specs.flatMap((s) => (s && 'genotype' in s ? [s.genotype] : []));
    try {
      checkEvaluationMemory(genotypes, job.config, limitMB);
    } catch (err) {
      if (err instanceof InputError) throw new InputError(`${job.id}: ${err.message}`);
      throw err;
    }
  }
}

/**
 * What the terminal says before a run: each claim's smallest detectable difference per data set
 * at the study's seeds and test images (from the study's own finished seeds when it has two, else
 * README's noise figures), and the estimated time of what is left.
 */
export function powerBefore(
  settings: StudySettings,
  entries: ReadonlyMap<string, JournalEntry>,
  workers: number,
): string[] {
  const budget = settings.budget as unknown as StudyBudget;
  const own = entries.size > 0 ? buildReport(settings, entries).power.after : null;
  const detectable =
    own?.detectable ??
    detectableDifferences(budget, settings.datasets, settings.seeds, README_PILOT);
  const jobs = studyJobs(settings);
  const left = jobs.filter((j) => !entries.has(j.id)).length;
  const minutes = estimateMinutes(budget, settings.datasets, settings.seeds, workers);
  return [
    `smallest differences the claims can detect (paired t over seeds, 95%, power 80%; noise from ${own?.pilot ?? README_PILOT.source}):`,
    ...detectableLines(detectable).map((l) => `  ${l}`),
    `estimated time: ${minutes.toFixed(0)} min for all ${jobs.length} evaluations with ${workers} worker(s) on an idle machine${left < jobs.length ? ` (${left} left)` : ''} (an estimate from a cost model calibrated on one measured quick study; load and the machine move it)`,
  ];
}

/** What the terminal says after a run: the detectable differences from the study's own noise. */
export function powerAfter(report: StudyReport): string[] {
  const own = report.power.after;
  if (!own) return ['smallest detectable differences: needs 2 seeds common to the networks'];
  return [
    `smallest differences the claims can detect (paired t over seeds, 95%, power 80%; noise from ${own.pilot}):`,
    ...detectableLines(own.detectable).map((l) => `  ${l}`),
  ];
}

/** Writes the report files from what the folder's journal holds. */
export async function writeReport(folder: StudyFolder): Promise<StudyReport> {
  return writeReportFiles(folder.dir, folder.settings, folder.entries());
}

async function writeReportFiles(
  dir: string,
  settings: StudySettings,
  entries: ReadonlyMap<string, JournalEntry>,
): Promise<StudyReport> {
  const report = buildReport(settings, entries);
  const plots = reportPlots(report);
  await mkdir(join(dir, 'plots'), { recursive: true });
  for (const p of plots) await writeFileAtomic(join(dir, 'plots', `${p.name}.svg`), `${p.svg}\n`);
  await writeFileAtomic(join(dir, 'report.json'), reportJson(report));
  await writeFileAtomic(join(dir, 'report.md'), reportMarkdown(report, plots));
  await writeFileAtomic(join(dir, 'report.html'), reportHtml(report, plots));
  return report;
}

/**
 * The report of the study in `out` as far as its journal goes, without evaluating anything and
 * without the study's lock (it may be running: its journal is only read).
 */
export async function reportOnly(out: string): Promise<StudyReport> {
  const dir = resolve(out);
  if (!existsSync(join(dir, SETTINGS_FILE))) {
    throw new InputError(`--out ${dir}: no study there (no ${SETTINGS_FILE})`);
  }
  const settings = await readSettings(dir);
  return writeReportFiles(dir, settings, await readEntries(dir, { readOnly: true }));
}

export interface RunOptions {
  /** Opens the evaluator (through the placement layer: src/placement/placement.ts). */
  readonly evaluator: () => Promise<RunEvaluator>;
  /** Evaluations in flight (default: the evaluator's concurrency). */
  readonly concurrency?: number;
  readonly onOpen?: (info: {
    jobs: readonly StudyJob[];
    done: number;
    folder: StudyFolder;
  }) => void;
  readonly onEvent?: (e: StudyEvent) => void;
}

/** Runs (or continues) the study in `settings` in the folder `out`; returns its report. */
export async function executeStudy(
  out: string,
  settings: StudySettings,
  options: RunOptions,
): Promise<StudyReport> {
  const jobs = studyJobs(settings);
  const folder = await StudyFolder.open(out, settings);
  try {
    const done = jobs.filter((j) => folder.entries().has(j.id)).length;
    options.onOpen?.({ jobs, done, folder });
    if (done < jobs.length) {
      const evaluator = await options.evaluator();
      try {
        await runStudy({
          jobs,
          folder,
          evaluator,
          studyKey: studyKey(settings),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.onEvent ? { onEvent: options.onEvent } : {}),
        });
      } catch (err) {
        await writeReport(folder).catch(() => {});
        throw err;
      } finally {
        await evaluator.close();
      }
    }
    return await writeReport(folder);
  } finally {
    await folder.close();
  }
}
