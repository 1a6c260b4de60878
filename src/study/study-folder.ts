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
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, truncate } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { JournalCorruptError, readJournal } from '../store/json-lines.js';
import { LockJudge, RunLock } from '../store/run-lock.js';
import { RunLockedError } from '../store/errors.js';
import { nameWriteError } from '../store/disk-errors.js';
import { BUDGET_NAMES, STUDY_DATASETS } from './budgets.js';

export const SETTINGS_FILE = 'settings.json';
export const JOURNAL_FILE = 'journal.jsonl';
export const WEIGHTS_DIR = 'weights';

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
export function weightsFileName(jobId: string): string {
  return `${jobId.replaceAll('/', '__')}.weights`;
}

export class StudyFolder {
  private constructor(
    readonly dir: string,
    readonly settings: StudySettings,
    private readonly lock: RunLock,
    private readonly done: Map<string, JournalEntry>,
  ) {}

  /**
   * Opens (or creates) the study folder `dir` for `settings`: takes its lock, checks the stored
   * settings equal these, reads the journal (dropping a torn last line).
   */
  static async open(dir: string, settings: StudySettings): Promise<StudyFolder> {
    const root = resolve(dir);
    const settingsPath = join(root, SETTINGS_FILE);
    let fresh = false;
    if (!existsSync(root)) {
      await mkdir(root, { recursive: true });
      fresh = true;
    } else if (!existsSync(settingsPath)) {
      const entries = await readdir(root);
      if (entries.length > 0) {
        throw new InputError(
          `--out ${root} holds files but no ${SETTINGS_FILE}: not a study folder (give an empty or new folder)`,
        );
      }
      fresh = true;
    }
    let lock: RunLock;
    try {
      lock = await RunLock.acquire(root, 'study', new LockJudge());
    } catch (err) {
      if (err instanceof RunLockedError) {
        throw new InputError(
          `the study in ${root} is already running (process ${err.pid}${err.host ? ` on ${err.host}` : ''})`,
        );
      }
      throw err;
    }
    try {
      if (fresh) {
        await writeFileAtomic(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
      } else {
        const stored = await readSettings(root);
        const diff = settingsDifference(stored, settings);
        if (diff) throw new InputError(`${root} holds a study with other settings: ${diff}`);
      }
      const done = await readEntries(root);
      await mkdir(join(root, WEIGHTS_DIR), { recursive: true });
      return new StudyFolder(root, settings, lock, done);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** The finished evaluations, by job id. */
  entries(): ReadonlyMap<string, JournalEntry> {
    return this.done;
  }

  /**
   * Ensembles need their members' stored weights. A member recorded with scores whose weights
   * file is gone (deleted, a disk replaced) is forgotten here, so that the study trains it again
   * (the same seed gives the same network and scores) before the ensembles that wait for it.
   * `members`: the ids of the members that ensembles not yet recorded need. Returns those forgotten.
   */
  forgetLostWeights(members: readonly string[]): string[] {
    const lost = members.filter((id) => {
      const e = this.done.get(id);
      return e !== undefined && 'scores' in e && !existsSync(this.weightsPath(id));
    });
    for (const id of lost) this.done.delete(id);
    return lost;
  }

  weightsPath(jobId: string): string {
    return join(this.dir, WEIGHTS_DIR, weightsFileName(jobId));
  }

  /**
   * Records a finished evaluation (its weights first, when given); durable when it resolves. Checks
   * first that this process still holds the study's lock (nothing is written otherwise), and names
   * the file and its disk when the write fails (a full disk: ENOSPC).
   */
  async record(entry: JournalEntry, weights?: Uint8Array): Promise<void> {
    const checked = journalEntrySchema.safeParse(entry);
    if (!checked.success) {
      throw new Error(`${entry.id}: not a study evaluation: ${formatIssues(checked.error)}`);
    }
    await this.lock.check();
    if (weights) {
      const path = this.weightsPath(entry.id);
      await writeFileAtomic(path, weights).catch((err: unknown) => {
        throw nameWriteError(err, path);
      });
    }
    const path = join(this.dir, JOURNAL_FILE);
    let fh;
    try {
      fh = await open(path, 'a');
      const start = (await fh.stat()).size;
      try {
        await fh.writeFile(`${JSON.stringify(entry)}\n`, 'utf8');
        await fh.datasync();
      } catch (err) {
        // A full disk may have written part of the line: cut it so the journal stays readable.
        await fh.truncate(start).catch(() => {});
        throw err;
      }
    } catch (err) {
      throw nameWriteError(err, path);
    } finally {
      await fh?.close();
    }
    this.done.set(entry.id, entry);
  }

  async close(): Promise<void> {
    await this.lock.release();
  }
}

export async function readSettings(root: string): Promise<StudySettings> {
  const path = join(root, SETTINGS_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new InputError(
      `${path}: not readable JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const r = studySettingsSchema.safeParse(parsed);
  if (!r.success) throw new InputError(`${path}: not study settings: ${formatIssues(r.error)}`);
  return r.data;
}

/**
 * The journal's entries by id; a torn last line (a kill mid-append) is cut off the file, unless
 * `readOnly` (a study another process may be running: its torn line is ignored, never touched).
 */
export async function readEntries(
  root: string,
  { readOnly = false }: { readonly readOnly?: boolean } = {},
): Promise<Map<string, JournalEntry>> {
  const path = join(root, JOURNAL_FILE);
  let contents;
  try {
    contents = await readJournal(path);
  } catch (err) {
    if (err instanceof JournalCorruptError) throw new InputError(`${path}: ${err.message}`);
    throw err;
  }
  if (readOnly) {
    // nothing to repair here
  } else if (contents.torn) await truncate(path, contents.validBytes);
  else if (contents.missingNewline) {
    const fh = await open(path, 'a');
    try {
      await fh.writeFile('\n');
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  const done = new Map<string, JournalEntry>();
  contents.values.forEach((value, i) => {
    const r = journalEntrySchema.safeParse(value);
    if (!r.success) {
      throw new InputError(
        `${path}: line ${i + 1} is not a study evaluation: ${formatIssues(r.error)}`,
      );
    }
    done.set(r.data.id, r.data);
  });
  return done;
}
