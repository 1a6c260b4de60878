/**
 * The studies the dashboard lists (issue 23): study folders (`robust-nas study --out DIR`) found in
 * the folders the server was told to look in (serve --studies-dir, else the folder that holds the
 * runs folder, where `study --out study-<budget>` writes by default). Read-only: settings and
 * journal through src/study/study-folder.ts's read functions (a torn last line of a study being run
 * is ignored, never repaired), the lock to tell a running study from one that stopped, and the
 * finished report. A study is named by its folder's name; the report is served only from a folder
 * found here (a client never gives a path).
 */
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { LockJudge } from '../store/run-lock.js';
import {
  JOURNAL_FILE,
  readEntries,
  readSettings,
  SETTINGS_FILE,
  type StudySettings,
} from '../study/study-folder.js';
import type { StudyOverview } from '../core/study-overview.js';

export const REPORT_FILE = 'report.html';

export type { StudyOverview };

/** How many evaluations a study's settings plan (src/study/study.ts, loaded only when needed). */
export type PlannedCount = (settings: StudySettings) => Promise<number>;

async function defaultPlanned(settings: StudySettings): Promise<number> {
  const { studyJobs } = await import('../study/study.js');
  return studyJobs(settings).length;
}

export interface StudiesOptions {
  /** Folders whose sub-folders (or which themselves) are study folders. */
  readonly dirs: readonly string[];
  readonly planned?: PlannedCount;
  readonly judge?: LockJudge;
}

/** Checks that every folder the user named exists (a named folder that is not there is an error). */
export function checkStudiesDirs(dirs: readonly string[]): string[] {
  return dirs.map((d) => {
    const abs = resolve(d);
    if (!existsSync(abs)) throw new InputError(`--studies-dir ${d}: no such folder`);
    return abs;
  });
}

function isStudyFolder(dir: string): boolean {
  return existsSync(join(dir, SETTINGS_FILE));
}

export class StudyIndex {
  private readonly planned: PlannedCount;
  private readonly judge: LockJudge;
  private readonly plannedCache = new Map<string, Promise<number | undefined>>();

  constructor(private readonly options: StudiesOptions) {
    this.planned = options.planned ?? defaultPlanned;
    this.judge = options.judge ?? new LockJudge();
  }

  /** The study folders found now, by name (the first of two folders with one name wins). */
  async folders(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const root of this.options.dirs) {
      if (isStudyFolder(root)) {
        if (!out.has(basename(root))) out.set(basename(root), root);
        continue;
      }
      let names: string[];
      try {
        names = await readdir(root);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        const dir = join(root, name);
        if (!out.has(name) && isStudyFolder(dir)) out.set(name, dir);
      }
    }
    return out;
  }

  async list(): Promise<StudyOverview[]> {
    const out: StudyOverview[] = [];
    for (const [name, dir] of await this.folders()) out.push(await this.overview(name, dir));
    return out;
  }

  /** The folder of a listed study; undefined for a name not listed. */
  async folder(name: string): Promise<string | undefined> {
    return (await this.folders()).get(name);
  }

  async overview(name: string, dir: string): Promise<StudyOverview> {
    const report = existsSync(join(dir, REPORT_FILE));
    let settings: StudySettings;
    try {
      settings = await readSettings(dir);
    } catch (err) {
      return {
        name,
        dir,
        status: 'unreadable',
        done: 0,
        failed: 0,
        report,
        error: err instanceof Error ? err.message : String(err),
      };
    }
    let done = 0;
    let failed = 0;
    let error: string | undefined;
    try {
      const entries = await readEntries(dir, { readOnly: true });
      done = entries.size;
      for (const e of entries.values()) if ('failed' in e) failed += 1;
    } catch (err) {
      // No journal yet (the study just started) is nothing; a corrupt one is said.
      if (existsSync(join(dir, JOURNAL_FILE))) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    const key = JSON.stringify(settings);
    let planned = this.plannedCache.get(key);
    if (!planned) {
      planned = this.planned(settings).catch(() => undefined);
      this.plannedCache.set(key, planned);
    }
    const running = (await this.judge.holder(dir).catch(() => undefined)) !== undefined;
    const updated = await stat(
      join(dir, existsSync(join(dir, JOURNAL_FILE)) ? JOURNAL_FILE : SETTINGS_FILE),
    )
      .then((s) => s.mtime.toISOString())
      .catch(() => undefined);
    const plannedCount = await planned;
    return {
      name,
      dir,
      budget: settings.budgetName,
      datasets: settings.datasets,
      seeds: settings.seeds,
      status: running ? 'running' : report ? 'finished' : 'stopped',
      done,
      failed,
      ...(plannedCount !== undefined ? { planned: plannedCount } : {}),
      report,
      ...(updated !== undefined ? { updatedAt: updated } : {}),
      ...(error !== undefined ? { error } : {}),
    };
  }
}
