/** Runs a search in the foreground for `search` and `resume`, with its progress on the terminal. */
import type { SearchRun } from '../runner/search-run.js';
import { attachSearchProgress } from './progress.js';

/** Runs to completion, pause or stop; SIGINT/SIGTERM stop gracefully (checkpoint, exit 0). */
export async function driveRun(run: SearchRun, json: boolean): Promise<void> {
  const detach = attachSearchProgress(run, json);
  const onSignal = () => {
    run.stop().catch((err: unknown) => {
      process.stderr.write(`robust-nas: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    detach();
  }
  if (json) return;
  const status = run.status();
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
