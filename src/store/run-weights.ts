/**
 * Trained weights kept by a run: `runs/<runId>/weights/<index>.weights`, one file per evaluation
 * that is on the run's current Pareto front. The evaluator writes a file for every network it
 * trains; after each generation the files of evaluations that left the front are deleted.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const WEIGHTS_DIR = 'weights';
const WEIGHTS_FILE = /^(\d+)\.weights$/;

/** Where the weights of evaluation `index` of the run in `runDir` are kept. */
export function weightsFile(runDir: string, index: number): string {
  return join(runDir, WEIGHTS_DIR, `${index}.weights`);
}

/** Indices of the evaluations whose weights the run holds, ascending. */
export async function storedWeights(runDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(join(runDir, WEIGHTS_DIR));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .flatMap((n) => {
      const m = WEIGHTS_FILE.exec(n);
      return m ? [Number(m[1])] : [];
    })
    .sort((a, b) => a - b);
}

/** Deletes the weights of every evaluation not in `keep` (and leftover temporary files). */
export async function pruneWeights(runDir: string, keep: readonly number[]): Promise<void> {
  const dir = join(runDir, WEIGHTS_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const kept = new Set(keep);
  await Promise.all(
    names
      .filter((n) => {
        const m = WEIGHTS_FILE.exec(n);
        return m ? !kept.has(Number(m[1])) : n.endsWith('.tmp');
      })
      .map((n) => rm(join(dir, n), { force: true })),
  );
}
