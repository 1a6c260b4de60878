/**
 * A study's folder (`--out`), what makes a study resumable:
 *
 *   settings.json      the study's settings (budget and its data, data sets, seeds, data folders,
 *                      robust-nas version), written once, atomically
 *   journal.jsonl      one finished evaluation per line (scores, or the failure's reason), appended
 *                      and fdatasynced before the next evaluation is counted as done
 *   weights/<id>.weights  the trained weights of the random genotypes the ensembles reuse, written
 *                      atomically before their journal line
 *   run.lock           held while a process runs the study (the run lock of src/store/run-lock.ts)
 *   report.html, report.md, report.json, plots/*.svg   written at the end
 *
 * A kill at any instant loses at most the evaluations in flight; a torn last journal line is
 * dropped at the next open. Rerunning with the same --out continues; other settings in an existing
 * study folder are refused (InputError naming the difference); a folder that holds other files is
 * never written to.
 */
import { z } from 'zod';
import { BUDGET_NAMES, STUDY_DATASETS } from './budgets.js';
import {
  FOLDER_JOURNAL_FILE,
  FOLDER_SETTINGS_FILE,
  FOLDER_WEIGHTS_DIR,
  JournalFolder,
  entryWeightsFileName,
  readFolderEntries,
  readFolderSettings,
  type JournalFolderSpec,
} from './journal-folder.js';

export const SETTINGS_FILE = FOLDER_SETTINGS_FILE;
export const JOURNAL_FILE = FOLDER_JOURNAL_FILE;
export const WEIGHTS_DIR = FOLDER_WEIGHTS_DIR;

export const studySettingsSchema = z.object({
  format: z.literal('robust-nas-study'),
  version: z.literal(1),
  robustNasVersion: z.string(),
  budgetName: z.enum(BUDGET_NAMES),
  /** The budget's data as it was when the study started (budgets.ts). */
  budget: z.record(z.string(), z.unknown()),
  datasets: z.array(z.enum(STUDY_DATASETS)).min(1),
  seeds: z.number().int().min(1).max(100),
  /** Per data set, the folder read (absent: the bundled MNIST copy or the user cache). */
  dataDirs: z.record(z.string(), z.string()),
});
export type StudySettings = z.infer<typeof studySettingsSchema>;

/** Values are checked on read: an accuracy is a fraction in [0, 1], its n a count. */
const accuracySchema = z.object({
  accuracy: z.number().min(0).max(1),
  stderr: z.number().min(0).max(1),
  n: z.number().int().min(0),
});
const scoresSchema = z.object({
  clean: accuracySchema,
  adversarial: z.array(
    accuracySchema.extend({ attack: z.string(), eps: z.number(), steps: z.number().optional() }),
  ),
  params: z.number().int().min(0),
  macs: z.number().min(0),
  seconds: z.object({
    train: z.number().min(0),
    attack: z.number().min(0),
    total: z.number().min(0),
  }),
  backend: z.string(),
});
export const journalEntrySchema = z.union([
  z.object({ id: z.string(), scores: scoresSchema }),
  z.object({ id: z.string(), failed: z.string() }),
]);
export type JournalEntry = z.infer<typeof journalEntrySchema>;
export type StoredScores = z.infer<typeof scoresSchema>;

/** The settings' fields that must agree for a study to continue, with how to name them. */
const COMPARED: readonly [keyof StudySettings, string][] = [
  ['budgetName', '--budget'],
  ['datasets', '--datasets'],
  ['seeds', '--seeds'],
  ['dataDirs', 'the data folders (--data-dir, ROBUST_NAS_DATA)'],
  ['budget', 'the budget data (src/study/budgets.ts)'],
  ['robustNasVersion', 'the robust-nas version'],
];

/** The first difference between stored and requested settings, as a sentence; undefined when none. */
export function settingsDifference(
  stored: StudySettings,
  wanted: StudySettings,
): string | undefined {
  for (const [key, label] of COMPARED) {
    const a = JSON.stringify(stored[key]);
    const b = JSON.stringify(wanted[key]);
    if (a !== b) {
      const show = (s: string) => (s.length > 80 ? `${s.slice(0, 77)}...` : s);
      return `${label}: the study folder has ${show(a)}, this command asks for ${show(b)}`;
    }
  }
  return undefined;
}

/** File name of a job's weights ('/' is not allowed in a file name). */
export const weightsFileName = entryWeightsFileName;

const STUDY_FOLDER: JournalFolderSpec<StudySettings, JournalEntry> = {
  kind: 'study',
  option: '--out',
  settingsSchema: studySettingsSchema,
  entrySchema: journalEntrySchema,
  difference: settingsDifference,
};

/** A study's folder: the journal folder of journal-folder.ts with the study's settings and entries. */
export class StudyFolder {
  private constructor(private readonly folder: JournalFolder<StudySettings, JournalEntry>) {}

  /**
   * Opens (or creates) the study folder `dir` for `settings`: takes its lock, checks the stored
   * settings equal these, reads the journal (dropping a torn last line).
   */
  static async open(dir: string, settings: StudySettings): Promise<StudyFolder> {
    return new StudyFolder(await JournalFolder.open(dir, settings, STUDY_FOLDER));
  }

  get dir(): string {
    return this.folder.dir;
  }

  get settings(): StudySettings {
    return this.folder.settings;
  }

  /** The finished evaluations, by job id. */
  entries(): ReadonlyMap<string, JournalEntry> {
    return this.folder.entries();
  }

  /**
   * Ensembles need their members' stored weights. A member recorded with scores whose weights
   * file is gone (deleted, a disk replaced) is forgotten here, so that the study trains it again
   * (the same seed gives the same network and scores) before the ensembles that wait for it.
   * `members`: the ids of the members that ensembles not yet recorded need. Returns those forgotten.
   */
  forgetLostWeights(members: readonly string[]): string[] {
    return this.folder.forgetWithoutWeights(members, (e) => 'scores' in e);
  }

  weightsPath(jobId: string): string {
    return this.folder.weightsPath(jobId);
  }

  /**
   * Records a finished evaluation (its weights first, when given); durable when it resolves. Checks
   * first that this process still holds the study's lock (nothing is written otherwise), and names
   * the file and its disk when the write fails (a full disk: ENOSPC).
   */
  record(entry: JournalEntry, weights?: Uint8Array): Promise<void> {
    return this.folder.record(entry, weights);
  }

  close(): Promise<void> {
    return this.folder.close();
  }
}

export function readSettings(root: string): Promise<StudySettings> {
  return readFolderSettings(root, STUDY_FOLDER);
}

/**
 * The journal's entries by id; a torn last line (a kill mid-append) is cut off the file, unless
 * `readOnly` (a study another process may be running: its torn line is ignored, never touched).
 */
export function readEntries(
  root: string,
  options: { readonly readOnly?: boolean } = {},
): Promise<Map<string, JournalEntry>> {
  return readFolderEntries(root, STUDY_FOLDER, options);
}
