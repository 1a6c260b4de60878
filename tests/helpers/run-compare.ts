import { RunStore } from '../../src/store/run-store.js';

/** A run's evaluations, populations and fronts, without wall-clock fields, for deep comparison. */
export async function comparableRun(runsDir: string, runId: string) {
  const data = await new RunStore(runsDir).read(runId);
  return {
    status: data.status,
    evaluations: data.evaluations.map(({ startedAt: _s, finishedAt: _f, ...rest }) => rest),
    generations: data.generations,
  };
}
