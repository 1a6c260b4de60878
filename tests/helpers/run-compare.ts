import { runHeader, runSummary } from '../../src/core/run-view.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';

/** A stored run as tests look at it: its summary, evaluations, generations and reference. */
export async function readRun(runsDir: string, runId: string) {
  const stored = await new FileRunStorage(runsDir).read(runId);
  const header = runHeader(stored.file, stored.status);
  return {
    ...runSummary(header, stored.evaluations.length),
    config: stored.file.config,
    evaluations: [...stored.evaluations],
    generations: [...stored.file.generations],
    ...(stored.file.checkpoint.reference ? { reference: stored.file.checkpoint.reference } : {}),
  };
}

/** A run's evaluations, populations and fronts, without wall-clock fields, for deep comparison. */
export async function comparableRun(runsDir: string, runId: string) {
  const data = await readRun(runsDir, runId);
  return {
    status: data.status,
    evaluations: data.evaluations.map(({ startedAt: _s, finishedAt: _f, ...rest }) => rest),
    generations: data.generations,
  };
}
