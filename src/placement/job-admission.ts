/**
 * What a queue worker checks of a job before it runs it, beyond its shape (job.ts): a job comes
 * from anyone who can write to that Redis, so the worker applies its own limits.
 *
 * - Memory: the network's estimated peak (memory-estimate.ts) within this worker's
 *   `--max-memory-mb` (a job with 512 channels and 64 cells is refused before any tensor exists).
 * - Data: a data folder the job names must lie under one of this worker's data roots (its
 *   `--data-root` folders, ROBUST_NAS_DATA, the user cache, the bundled copy), resolved through
 *   symbolic links; a job may not make the worker read anything else.
 * - The data itself: when the job carries the coordinator's fingerprint of the data set, this
 *   worker's must be the same, or the results would differ silently (another version of the
 *   files). That refusal is an error of the environment ({@link DataMismatchError}), not a failure
 *   of the candidate.
 */
import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { bundledDataDir, userCacheDir } from '../evaluator/datasets/locate.js';
import { datasetFingerprint } from '../evaluator/datasets/fingerprint.js';
import { checkEvaluationMemory } from '../evaluator/memory-estimate.js';
import type { EvaluationJob } from './job.js';

export interface AdmissionLimits {
  /** This worker's memory limit per evaluation, in MB. */
  readonly maxMemoryMB: number;
  /** Folders under which a job's data folder must lie (besides the defaults below). */
  readonly dataRoots: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** A job this worker cannot run with its data: an error of the environment, naming both prints. */
export class DataMismatchError extends Error {
  override name = 'DataMismatchError';
  readonly environment = true;
  constructor(
    readonly expected: string,
    readonly found: string | undefined,
  ) {
    super(
      `this worker's data differs from the coordinator's: the job expects ${expected}, this worker has ${found ?? 'no copy of the data set'} (give the worker the same files: --data-root or ROBUST_NAS_DATA)`,
    );
  }
}

/** The folders a job's data may come from on this worker (resolved, links followed). */
export function workerDataRoots(limits: AdmissionLimits): string[] {
  const env = limits.env ?? process.env;
  const roots = [...limits.dataRoots, userCacheDir(env), bundledDataDir()];
  if (env.ROBUST_NAS_DATA) roots.push(env.ROBUST_NAS_DATA);
  return [...new Set(roots.map(real))];
}

function real(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The reason this worker refuses `job` (a job it must never run: too big for it, data from
 * elsewhere), or undefined. Throws DataMismatchError when its data differs.
 */
export async function admissionProblem(
  job: EvaluationJob,
  limits: AdmissionLimits,
): Promise<string | undefined> {
  try {
    // Cell networks by their exact size; baselines are bounded by the task schema's width.
    checkEvaluationMemory(
      job.members.flatMap((m) => ('genotype' in m ? [m.genotype] : [])),
      job.config,
      limits.maxMemoryMB,
    );
  } catch (err) {
    return `over this worker's memory limit: ${err instanceof Error ? err.message : String(err)}`;
  }
  const env = limits.env ?? process.env;
  if (job.config.dataDir !== undefined) {
    const roots = workerDataRoots(limits);
    const wanted = real(job.config.dataDir);
    if (!roots.some((r) => under(wanted, r))) {
      return `the job names the data folder ${job.config.dataDir}, outside this worker's data roots (${roots.join(', ')}); start the worker with --data-root naming it`;
    }
  }
  if (job.dataFingerprint !== undefined) {
    let mine: string | undefined;
    try {
      mine = await datasetFingerprint(job.config.dataset, job.config.dataDir, env);
    } catch (err) {
      throw new DataMismatchError(
        job.dataFingerprint,
        `no readable copy (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    if (mine !== job.dataFingerprint) throw new DataMismatchError(job.dataFingerprint, mine);
  }
  return undefined;
}
