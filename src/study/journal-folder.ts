/**
 * A resumable folder of finished evaluations, as the study and `validate` keep them:
 *
 *   settings.json   what the folder computes, written once, atomically; a later command with other
 *                   settings is refused (InputError naming the first difference)
 *   journal.jsonl   one finished evaluation per line, appended and fdatasynced before it counts
 *   weights/        trained weights a later step reuses (written atomically before the line)
 *   run.lock        held while a process writes the folder (src/store/run-lock.ts)
 *
 * A kill at any instant loses at most the evaluations in flight; a torn last journal line is cut off
 * at the next open. A folder that holds other files but no settings is never written to.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, truncate } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';
import { writeFileAtomic } from '../store/atomic-write.js';
import { nameWriteError } from '../store/disk-errors.js';
import { RunLockedError } from '../store/errors.js';
import { JournalCorruptError, readJournal } from '../store/json-lines.js';
import { LockJudge, RunLock } from '../store/run-lock.js';

export const FOLDER_SETTINGS_FILE = 'settings.json';
export const FOLDER_JOURNAL_FILE = 'journal.jsonl';
export const FOLDER_WEIGHTS_DIR = 'weights';

export interface JournalFolderSpec<S, E extends { readonly id: string }> {
  /** What the folder holds, for messages ("study", "validation"). */
  readonly kind: string;
  /** The option that names the folder, for messages ("--out"). */
  readonly option: string;
  readonly settingsSchema: z.ZodType<S>;
  readonly entrySchema: z.ZodType<E>;
  /** The first difference between stored and wanted settings, as a sentence; undefined when none. */
  readonly difference: (stored: S, wanted: S) => string | undefined;
}

/** File name of an entry's weights ('/' is not allowed in a file name). */
export function entryWeightsFileName(id: string): string {
  return `${id.replaceAll('/', '__')}.weights`;
}

export class JournalFolder<S, E extends { readonly id: string }> {
  private constructor(
    readonly dir: string,
    readonly settings: S,
    private readonly lock: RunLock,
    private readonly done: Map<string, E>,
    private readonly spec: JournalFolderSpec<S, E>,
  ) {}

  /**
   * Opens (or creates) the folder `dir` for `settings`: takes its lock, checks the stored settings
   * equal these, reads the journal (cutting a torn last line).
   */
  static async open<S, E extends { readonly id: string }>(
    dir: string,
    settings: S,
    spec: JournalFolderSpec<S, E>,
  ): Promise<JournalFolder<S, E>> {
    const root = resolve(dir);
    const settingsPath = join(root, FOLDER_SETTINGS_FILE);
    let fresh = false;
    if (!existsSync(root)) {
      await mkdir(root, { recursive: true });
      fresh = true;
    } else if (!existsSync(settingsPath)) {
      const entries = await readdir(root);
      if (entries.length > 0) {
        throw new InputError(
          `${spec.option} ${root} holds files but no ${FOLDER_SETTINGS_FILE}: not a ${spec.kind} folder (give an empty or new folder)`,
        );
      }
      fresh = true;
    }
    let lock: RunLock;
    try {
      lock = await RunLock.acquire(root, spec.kind, new LockJudge());
    } catch (err) {
      if (err instanceof RunLockedError) {
        throw new InputError(
          `the ${spec.kind} in ${root} is already running (process ${err.pid}${err.host ? ` on ${err.host}` : ''})`,
        );
      }
      throw err;
    }
    try {
      if (fresh) {
        await writeFileAtomic(settingsPath, `${JSON.stringify(settings, null, 2)}\n`);
      } else {
        const stored = await readFolderSettings(root, spec);
        const diff = spec.difference(stored, settings);
        if (diff) throw new InputError(`${root} holds a ${spec.kind} with other settings: ${diff}`);
      }
      const done = await readFolderEntries(root, spec);
      await mkdir(join(root, FOLDER_WEIGHTS_DIR), { recursive: true });
      return new JournalFolder(root, settings, lock, done, spec);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** The finished evaluations, by id. */
  entries(): ReadonlyMap<string, E> {
    return this.done;
  }

  weightsPath(id: string): string {
    return join(this.dir, FOLDER_WEIGHTS_DIR, entryWeightsFileName(id));
  }

  /**
   * Forgets the entries `ids` whose weights file is gone (deleted, a disk replaced), so that they are
   * computed again; returns those forgotten.
   */
  forgetWithoutWeights(ids: readonly string[], hasWeights: (e: E) => boolean): string[] {
    const lost = ids.filter((id) => {
      const e = this.done.get(id);
      return e !== undefined && hasWeights(e) && !existsSync(this.weightsPath(id));
    });
    for (const id of lost) this.done.delete(id);
    return lost;
  }

  /**
   * Records a finished evaluation (its weights first, when given); durable when it resolves. The
   * entry is checked against the schema, and this process must still hold the folder's lock (nothing
   * is written otherwise); a failed write names the file and its disk (a full disk: ENOSPC), and a
   * partly written line is cut so that the journal stays readable.
   */
  async record(entry: E, weights?: Uint8Array): Promise<void> {
    const checked = this.spec.entrySchema.safeParse(entry);
    if (!checked.success) {
      throw new Error(
        `${entry.id}: not a ${this.spec.kind} evaluation: ${formatIssues(checked.error)}`,
      );
    }
    await this.lock.check();
    if (weights) {
      const path = this.weightsPath(entry.id);
      await writeFileAtomic(path, weights).catch((err: unknown) => {
        throw nameWriteError(err, path);
      });
    }
    const path = join(this.dir, FOLDER_JOURNAL_FILE);
    let fh;
    try {
      fh = await open(path, 'a');
      const start = (await fh.stat()).size;
      try {
        await fh.writeFile(`${JSON.stringify(entry)}\n`, 'utf8');
        await fh.datasync();
      } catch (err) {
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

/** The settings stored in a folder, checked against the schema (InputError naming the file). */
export async function readFolderSettings<S, E extends { readonly id: string }>(
  root: string,
  spec: Pick<JournalFolderSpec<S, E>, 'settingsSchema' | 'kind'>,
): Promise<S> {
  const path = join(root, FOLDER_SETTINGS_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new InputError(
      `${path}: not readable JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const r = spec.settingsSchema.safeParse(parsed);
  if (!r.success)
    throw new InputError(`${path}: not ${spec.kind} settings: ${formatIssues(r.error)}`);
  return r.data;
}

/**
 * The journal's entries by id, each checked against the schema (InputError naming file and line); a
 * torn last line (a kill mid-append) is cut off the file, unless `readOnly` (a folder another process
 * may be writing: its torn line is ignored, never touched).
 */
export async function readFolderEntries<S, E extends { readonly id: string }>(
  root: string,
  spec: Pick<JournalFolderSpec<S, E>, 'entrySchema' | 'kind'>,
  { readOnly = false }: { readonly readOnly?: boolean } = {},
): Promise<Map<string, E>> {
  const path = join(root, FOLDER_JOURNAL_FILE);
  let contents;
  try {
    contents = await readJournal(path);
  } catch (err) {
    if (err instanceof JournalCorruptError) throw new InputError(`${path}: ${err.message}`);
    throw err;
  }
  if (!readOnly) {
    if (contents.torn) await truncate(path, contents.validBytes);
    else if (contents.missingNewline) {
      const fh = await open(path, 'a');
      try {
        await fh.writeFile('\n');
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
  }
  const done = new Map<string, E>();
  contents.values.forEach((value, i) => {
    const r = spec.entrySchema.safeParse(value);
    if (!r.success) {
      throw new InputError(
        `${path}: line ${i + 1} is not a ${spec.kind} evaluation: ${formatIssues(r.error)}`,
      );
    }
    done.set(r.data.id, r.data);
  });
  return done;
}
