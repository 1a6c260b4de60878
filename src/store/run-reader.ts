/**
 * Reads and validates what a run directory holds: format and version first (a newer version
 * is reported as such), then the shape of run.json, the config, and every journal line. Read-only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { searchConfigSchema, withStoredResamplingDefault } from '../core/search-config.js';
import { RunCorruptError, RunFormatVersionError, RunNotFoundError } from './errors.js';
import { JournalCorruptError, readJournal, type JournalContents } from './json-lines.js';
import {
  EVALUATIONS_FILE,
  RUN_FILE,
  RUN_FORMAT,
  RUN_FORMAT_VERSION,
  evaluationRecordSchema,
  runFileSchema,
  type RunFile,
  type StoredEvaluation,
} from './run-format.js';
import { formatIssues, type IssueSource } from '../core/issues.js';

function firstIssue(error: IssueSource): string {
  return formatIssues(error, { max: 1 });
}

/** Parses and checks run.json text. */
export function parseRunFile(runId: string, text: string): RunFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new RunCorruptError(runId, `${RUN_FILE} is not valid JSON`);
  }
  if (
    typeof raw !== 'object' ||
    raw === null ||
    (raw as { format?: unknown }).format !== RUN_FORMAT
  ) {
    throw new RunCorruptError(runId, `${RUN_FILE} is not a robust-nas run file`);
  }
  const version = (raw as { formatVersion?: unknown }).formatVersion;
  if (typeof version === 'number' && version > RUN_FORMAT_VERSION) {
    throw new RunFormatVersionError(runId, version, RUN_FORMAT_VERSION);
  }
  const r = runFileSchema.safeParse(raw);
  if (!r.success) throw new RunCorruptError(runId, `${RUN_FILE}: ${firstIssue(r.error)}`);
  if (r.data.id !== runId) {
    throw new RunCorruptError(runId, `${RUN_FILE} names run ${JSON.stringify(r.data.id)}`);
  }
  const config = searchConfigSchema.safeParse(withStoredResamplingDefault(r.data.config));
  if (!config.success) {
    throw new RunCorruptError(runId, `${RUN_FILE} config: ${firstIssue(config.error)}`);
  }
  return { ...r.data, config: config.data } as RunFile;
}

export async function readRunFile(dir: string, runId: string): Promise<RunFile> {
  let text: string;
  try {
    text = await readFile(join(dir, RUN_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new RunNotFoundError(runId);
    throw err;
  }
  return parseRunFile(runId, text);
}

/**
 * Checks journal values as evaluation records: each must have the shape of one and the index of its
 * line (`from` is the index of the first value). RunCorruptError naming the line otherwise.
 */
export function checkRecords(
  runId: string,
  values: readonly unknown[],
  from = 0,
): StoredEvaluation[] {
  return values.map((v, i) => {
    const line = from + i + 1;
    const r = evaluationRecordSchema.safeParse(v);
    if (!r.success) {
      throw new RunCorruptError(runId, `${EVALUATIONS_FILE} line ${line}: ${firstIssue(r.error)}`);
    }
    if (r.data.index !== from + i) {
      throw new RunCorruptError(
        runId,
        `${EVALUATIONS_FILE} line ${line} has index ${r.data.index}`,
      );
    }
    return r.data as unknown as StoredEvaluation;
  });
}

/** Checks that the run file refers only to evaluations the journal holds (`known` of them). */
export function checkReferences(runId: string, file: RunFile, known: number): void {
  const check = (list: readonly number[], what: string) => {
    if (list.some((i) => i >= known)) {
      throw new RunCorruptError(runId, `${what} refers to an evaluation that is not stored`);
    }
  };
  check(file.checkpoint.population, 'the checkpoint population');
  if (file.checkpoint.evaluationsAtStart > known) {
    throw new RunCorruptError(runId, 'the checkpoint is ahead of the stored evaluations');
  }
  for (const g of file.generations) {
    check(g.population, `generation ${g.generation}'s population`);
    check(g.front, `generation ${g.generation}'s front`);
  }
}

/** Reads a journal, reporting an unreadable line as RunCorruptError. */
export async function readRunJournal(dir: string, runId: string): Promise<JournalContents> {
  try {
    return await readJournal(join(dir, EVALUATIONS_FILE));
  } catch (err) {
    if (err instanceof JournalCorruptError) {
      throw new RunCorruptError(runId, `${EVALUATIONS_FILE} ${err.message}`);
    }
    throw err;
  }
}
