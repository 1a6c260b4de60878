/** Runs a search in the foreground for `search` and `resume`, with its progress on the terminal. */
import type { SearchRun } from '../runner/search-run.js';
import { attachSearchProgress } from './progress.js';
import { withInputErrors } from './runs-access.js';

/**
 * Runs to completion, pause or stop. SIGINT (Ctrl-C) and SIGTERM pause the run, as they do in
 * `serve`: the run is checkpointed, marked 'paused' and the process exits 0; `resume` continues it.
 */
export async function driveRun(run: SearchRun, json: boolean): Promise<void> {
  const detach = attachSearchProgress(run, json);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    process.stderr.write(
      `robust-nas: ${signal}: pausing run ${run.id} (the evaluation in flight is dropped and done again on resume)\n`,
    );
    run.pause();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Another process holding the run, or a status that forbids running it: exit 2, one line.
    await withInputErrors(() => run.run());
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    detach();
  }
  const status = run.status();
  const why = run.message();
  if (status === 'paused' && why !== undefined) {
    // Paused by an error of the environment (a full disk, a lost worker): say why.
    process.stderr.write(`robust-nas: run ${run.id} paused: ${why}\n`);
  }
  if (json) return;
  if (status === 'completed') {
    process.stdout.write(
      `run ${run.id} completed: ${run.evaluationCount()} evaluations; see: robust-nas runs front ${run.id}\n`,
    );
  } else {
    process.stdout.write(
      `run ${run.id} ${status} after ${run.evaluationCount()} evaluations; continue with: robust-nas resume ${run.id}\n`,
    );
  }
}
